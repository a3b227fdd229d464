// SPDX-License-Identifier: BSL-1.0
// The error model: status names, HTTP mapping, the retry table, categories, the canonical
// status of any error_code, error_details::to_string and the velt::error exception.
#include <velt/error.hpp>
#include <velt/wire.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using velt::status;

std::vector<std::pair<status, std::string>> const all_statuses{
    {status::ok, "OK"},
    {status::cancelled, "CANCELLED"},
    {status::unknown, "UNKNOWN"},
    {status::invalid_argument, "INVALID_ARGUMENT"},
    {status::deadline_exceeded, "DEADLINE_EXCEEDED"},
    {status::not_found, "NOT_FOUND"},
    {status::already_exists, "ALREADY_EXISTS"},
    {status::permission_denied, "PERMISSION_DENIED"},
    {status::resource_exhausted, "RESOURCE_EXHAUSTED"},
    {status::failed_precondition, "FAILED_PRECONDITION"},
    {status::aborted, "ABORTED"},
    {status::out_of_range, "OUT_OF_RANGE"},
    {status::unimplemented, "UNIMPLEMENTED"},
    {status::internal, "INTERNAL"},
    {status::unavailable, "UNAVAILABLE"},
    {status::data_loss, "DATA_LOSS"},
    {status::unauthenticated, "UNAUTHENTICATED"},
};

TEST(ErrorStatus, NamesRoundTripForAllSeventeen) {
  ASSERT_EQ(all_statuses.size(), 17u);
  for (auto const& [s, name] : all_statuses) {
    EXPECT_EQ(velt::to_string(s), name);
    auto const parsed = velt::status_from_string(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, s) << name;
  }
}

TEST(ErrorStatus, GrpcNumbering) {
  EXPECT_EQ(static_cast<int>(status::invalid_argument), 3);
  EXPECT_EQ(static_cast<int>(status::resource_exhausted), 8);
  EXPECT_EQ(static_cast<int>(status::unauthenticated), 16);
}

TEST(ErrorStatus, UnknownNamesAreRejected) {
  EXPECT_FALSE(velt::status_from_string("invalid_argument"));  // exact, upper case
  EXPECT_FALSE(velt::status_from_string("INVALID_ARGUMENT "));
  EXPECT_FALSE(velt::status_from_string(""));
  EXPECT_FALSE(velt::status_from_string("NOT_A_STATUS"));
  EXPECT_EQ(velt::to_string(static_cast<status>(99)), "UNKNOWN");
}

TEST(ErrorStatus, FromHttpAsDocumented) {
  EXPECT_EQ(velt::status_from_http(400), status::invalid_argument);
  EXPECT_EQ(velt::status_from_http(401), status::unauthenticated);
  EXPECT_EQ(velt::status_from_http(403), status::permission_denied);
  EXPECT_EQ(velt::status_from_http(404), status::not_found);
  EXPECT_EQ(velt::status_from_http(408), status::deadline_exceeded);
  EXPECT_EQ(velt::status_from_http(409), status::aborted);
  EXPECT_EQ(velt::status_from_http(429), status::resource_exhausted);
  EXPECT_EQ(velt::status_from_http(500), status::internal);
  EXPECT_EQ(velt::status_from_http(501), status::unimplemented);
  EXPECT_EQ(velt::status_from_http(502), status::unavailable);
  EXPECT_EQ(velt::status_from_http(503), status::unavailable);
  EXPECT_EQ(velt::status_from_http(504), status::deadline_exceeded);
  EXPECT_EQ(velt::status_from_http(405), status::failed_precondition);
  EXPECT_EQ(velt::status_from_http(413), status::failed_precondition);
  EXPECT_EQ(velt::status_from_http(499), status::failed_precondition);
  EXPECT_EQ(velt::status_from_http(505), status::internal);
  EXPECT_EQ(velt::status_from_http(599), status::internal);
  EXPECT_EQ(velt::status_from_http(200), status::unknown);
  EXPECT_EQ(velt::status_from_http(302), status::unknown);
  EXPECT_EQ(velt::status_from_http(0), status::unknown);
  EXPECT_EQ(velt::status_from_http(600), status::unknown);
}

TEST(ErrorStatus, RetryableTable) {
  std::vector<status> const retried{status::unavailable, status::resource_exhausted,
                                    status::deadline_exceeded, status::aborted,
                                    status::internal, status::unknown};
  for (auto const& [s, name] : all_statuses) {
    bool const expected = std::find(retried.begin(), retried.end(), s) != retried.end();
    EXPECT_EQ(velt::is_retryable(s), expected) << name;
  }
}

TEST(ErrorCategory, StatusCategory) {
  auto const ec = velt::make_error_code(status::permission_denied);
  EXPECT_STREQ(ec.category().name(), "velt.status");
  EXPECT_EQ(ec.value(), 7);
  EXPECT_NE(ec.message().find("PERMISSION_DENIED"), std::string::npos) << ec.message();
  EXPECT_NE(ec.message().find("permission"), std::string::npos) << ec.message();
  EXPECT_TRUE(ec.failed());
  EXPECT_FALSE(velt::make_error_code(status::ok).failed());
  // Implicit conversion through is_error_code_enum.
  boost::system::error_code const implicit = status::not_found;
  EXPECT_EQ(implicit, velt::make_error_code(status::not_found));
  EXPECT_NE(implicit, velt::make_error_code(status::internal));
  EXPECT_NE(velt::status_category().message(99).find("99"), std::string::npos);
}

TEST(ErrorCategory, ClientCategory) {
  auto const ec = velt::make_error_code(velt::errc::malformed_response);
  EXPECT_STREQ(ec.category().name(), "velt.client");
  EXPECT_NE(ec.message().find("malformed"), std::string::npos) << ec.message();
  boost::system::error_code const implicit = velt::errc::response_too_large;
  EXPECT_EQ(&implicit.category(), &velt::client_category());
  EXPECT_NE(implicit, velt::make_error_code(velt::errc::response_too_deep));
  // A client errc never equals the status with the same number.
  EXPECT_NE(velt::make_error_code(velt::errc::invalid_request),
            velt::make_error_code(static_cast<status>(1)));
  for (int v = 1; v <= 8; ++v) {
    auto const m = velt::client_category().message(v);
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.find("unrecognised"), std::string::npos) << v;
  }
  EXPECT_NE(velt::client_category().message(0).find("unrecognised"), std::string::npos);
}

TEST(ErrorCanonicalStatus, VeltStatusesAsTheyAre) {
  for (auto const& [s, name] : all_statuses)
    EXPECT_EQ(velt::canonical_status(velt::make_error_code(s)), s) << name;
  EXPECT_EQ(velt::canonical_status(boost::system::error_code(42, velt::status_category())),
            status::unknown);
}

TEST(ErrorCanonicalStatus, ClientErrcMapping) {
  using velt::errc;
  auto canon = [](errc e) { return velt::canonical_status(velt::make_error_code(e)); };
  EXPECT_EQ(canon(errc::invalid_request), status::invalid_argument);
  EXPECT_EQ(canon(errc::malformed_response), status::internal);
  EXPECT_EQ(canon(errc::response_too_large), status::out_of_range);
  EXPECT_EQ(canon(errc::response_too_deep), status::out_of_range);
  EXPECT_EQ(canon(errc::unexpected_redirect), status::failed_precondition);
  EXPECT_EQ(canon(errc::retry_budget_exhausted), status::unavailable);
  EXPECT_EQ(canon(errc::deadline_exceeded), status::deadline_exceeded);
  EXPECT_EQ(canon(errc::plain_http_refused), status::invalid_argument);
  // The proxy's refusals of the tunnel: credentials, access rules (not retried), 5xx (retried).
  EXPECT_EQ(canon(errc::proxy_auth_required), status::unauthenticated);
  EXPECT_EQ(canon(errc::proxy_refused), status::permission_denied);
  EXPECT_EQ(canon(errc::proxy_unavailable), status::unavailable);
  EXPECT_NE(make_error_code(errc::proxy_refused).message().find("proxy"), std::string::npos);
}

TEST(ErrorCanonicalStatus, TransportErrors) {
  using velt::canonical_status;
  EXPECT_EQ(canonical_status({}), status::ok);
  EXPECT_EQ(canonical_status(boost::asio::error::operation_aborted), status::cancelled);
  EXPECT_EQ(canonical_status(boost::system::errc::make_error_code(
                boost::system::errc::operation_canceled)),
            status::cancelled);
  EXPECT_EQ(canonical_status(boost::asio::error::timed_out), status::deadline_exceeded);
  EXPECT_EQ(canonical_status(boost::system::errc::make_error_code(boost::system::errc::timed_out)),
            status::deadline_exceeded);
  EXPECT_EQ(canonical_status(boost::beast::error::timeout), status::deadline_exceeded);
  EXPECT_EQ(canonical_status(boost::asio::error::connection_refused), status::unavailable);
  EXPECT_EQ(canonical_status(boost::asio::error::connection_reset), status::unavailable);
  EXPECT_EQ(canonical_status(boost::asio::error::eof), status::unavailable);
  EXPECT_EQ(canonical_status(boost::asio::error::host_not_found), status::unavailable);
  EXPECT_EQ(canonical_status(boost::asio::ssl::error::stream_truncated), status::unavailable);
  EXPECT_EQ(canonical_status(boost::beast::http::error::partial_message), status::unavailable);
}

TEST(ErrorDetails, ToStringForms) {
  velt::error_details d;
  d.status = status::permission_denied;
  d.code = velt::make_error_code(d.status);
  d.message = "Invalid auth token";
  d.http_status = 403;
  EXPECT_EQ(d.to_string(), "PERMISSION_DENIED (HTTP 403): Invalid auth token");
  d.attempts = 1;
  EXPECT_EQ(d.to_string(), "PERMISSION_DENIED (HTTP 403): Invalid auth token");
  d.attempts = 3;
  EXPECT_EQ(d.to_string(), "PERMISSION_DENIED (HTTP 403): Invalid auth token, after 3 attempts");
  d.http_status = 0;
  d.attempts = 0;
  EXPECT_EQ(d.to_string(), "PERMISSION_DENIED: Invalid auth token");
  d.message.clear();
  EXPECT_EQ(d.to_string(), "PERMISSION_DENIED");
}

TEST(ErrorDetails, MakeErrorDetailsUsesCanonicalStatus) {
  auto const d = velt::make_error_details(velt::errc::response_too_deep, "too deep", 200);
  EXPECT_EQ(d.code, velt::make_error_code(velt::errc::response_too_deep));
  EXPECT_EQ(d.status, status::out_of_range);
  EXPECT_EQ(d.message, "too deep");
  EXPECT_EQ(d.http_status, 200u);
  EXPECT_FALSE(d.retry_after.has_value());
  EXPECT_EQ(d.attempts, 0u);

  auto const t = velt::make_error_details(boost::asio::error::timed_out, "read timed out");
  EXPECT_EQ(t.status, status::deadline_exceeded);
  EXPECT_EQ(t.http_status, 0u);
}

TEST(ErrorException, CarriesDetailsAndMessage) {
  auto d = velt::make_error_details(velt::make_error_code(status::permission_denied),
                                    "Invalid auth token", 403);
  d.attempts = 2;
  velt::error const e(d);
  std::string const what = e.what();
  EXPECT_NE(what.find("PERMISSION_DENIED (HTTP 403): Invalid auth token, after 2 attempts"),
            std::string::npos)
      << what;
  EXPECT_EQ(e.code(), velt::make_error_code(status::permission_denied));
  EXPECT_EQ(e.status(), status::permission_denied);
  EXPECT_EQ(e.details().message, "Invalid auth token");
  EXPECT_EQ(e.details().http_status, 403u);
  EXPECT_EQ(e.details().attempts, 2u);

  static_assert(std::is_nothrow_copy_constructible_v<velt::error>);
  velt::error const copy = e;
  EXPECT_EQ(&copy.details(), &e.details());  // shared, immutable
  EXPECT_STREQ(copy.what(), e.what());
}

TEST(ErrorException, ResultValueThrowsVeltError) {
  velt::result<int> const r =
      velt::make_error_details(velt::errc::malformed_response, "bad body", 200);
  ASSERT_FALSE(r.has_value());
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (velt::error const& e) {
    EXPECT_EQ(e.status(), status::internal);
    EXPECT_EQ(e.code(), velt::make_error_code(velt::errc::malformed_response));
    EXPECT_EQ(e.details().message, "bad body");
    EXPECT_NE(std::string(e.what()).find("INTERNAL (HTTP 200): bad body"), std::string::npos);
  }
  EXPECT_THROW(velt::throw_exception_from_error(r.error(), BOOST_CURRENT_LOCATION), velt::error);
  // And it is a boost::system::system_error for generic handlers.
  EXPECT_THROW((void)r.value(), boost::system::system_error);
}

}  // namespace
