// SPDX-License-Identifier: BSL-1.0
// user_data_request::extra end to end over TLS: the extra members reach the server with
// every page request of a user (retries included), and reserved keys are refused before
// any I/O. What was sent is checked from the server side (server::recent_requests).
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace velt::test {
namespace {
namespace asio = boost::asio;

mock::server_options recording_server() {
  mock::server_options o;
  o.data.users = 6;
  o.data.min_items = 20;
  o.data.max_items = 230;
  o.data.page_size = 40;  // several pages per user
  o.data.heavy_users = 0;
  o.data.empty_user_fraction = 0;
  o.recorded_requests = 1000;
  return o;
}

/// What newer Velt SDKs send.
boost::json::object sdk_extras() {
  return {{"veltUserIds", boost::json::array{"velt-a", "velt-b"}},
          {"veltAllOrganizations", true},
          {"uniqueId", "u-1"}};
}

/// The user with the most pages.
std::string longest_user(mock::server const& srv) {
  auto const ids = srv.user_ids();
  return *std::max_element(ids.begin(), ids.end(), [&](auto const& a, auto const& b) {
    return srv.expected_pages(a) < srv.expected_pages(b);
  });
}

/// Every recorded get-user-data request carries the extras and the typed fields, and
/// requests after the first of a user carry a page token.
::testing::AssertionResult every_request_carries(std::vector<mock::recorded_request> const& seen,
                                                 std::string const& user,
                                                 boost::json::object const& extras) {
  for (auto const& r : seen) {
    if (r.endpoint != wire::endpoint::get_user_data)
      return ::testing::AssertionFailure() << "request " << r.number << " to another endpoint";
    if (r.data.size() != extras.size() + 2 + (r.data.contains("pageToken") ? 1 : 0))
      return ::testing::AssertionFailure() << "request " << r.number << ": " << r.data;
    if (r.data.at("userId") != boost::json::value(user) || !r.data.at("organizationId").is_string())
      return ::testing::AssertionFailure() << "request " << r.number << ": " << r.data;
    for (auto const& [key, value] : extras) {
      auto const* got = r.data.if_contains(key);
      if (got == nullptr || *got != value)
        return ::testing::AssertionFailure() << "request " << r.number << " lacks " << key << ": " << r.data;
    }
  }
  return ::testing::AssertionSuccess();
}

asio::awaitable<streamed> stream_with(velt::client c, user_data_request request, page_format format) {
  streamed out;
  page_stream pages = c.async_fetch_all_user_data(std::move(request), format);
  while (auto page = co_await pages.async_next(asio::use_awaitable)) {
    ++out.pages;
    if (page->index() + 1 != out.pages) out.indices_in_order = false;
  }
  co_return out;
}

TEST(ClientRequestFields, SentWithEveryPageOfAUser) {
  mock::server srv(recording_server());
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::string const user = longest_user(srv);
  std::size_t const pages = srv.expected_pages(user);
  ASSERT_GE(pages, 3u);

  for (auto format : {page_format::parsed, page_format::raw}) {
    srv.reset_stats();
    user_data_request request{.organization_id = srv.organization_id(), .user_id = user, .extra = sdk_extras()};
    auto got = run(io, stream_with(c, std::move(request), format));
    EXPECT_EQ(got.pages, pages);
    EXPECT_TRUE(got.indices_in_order);
    auto const seen = srv.recent_requests();
    ASSERT_EQ(seen.size(), pages);
    EXPECT_TRUE(every_request_carries(seen, user, sdk_extras()));
    // The page token chain is the server's own: the extras do not disturb it.
    EXPECT_FALSE(seen.front().data.contains("pageToken"));
    for (std::size_t p = 1; p < pages; ++p) EXPECT_TRUE(seen[p].data.contains("pageToken")) << p;
    for (std::size_t p = 0; p < pages; ++p) EXPECT_EQ(srv.stats().requests_for(user, p), 1u) << p;
  }

  // The merged form (async_fetch_user_data) streams the same way.
  srv.reset_stats();
  user_data_request request{.organization_id = srv.organization_id(), .user_id = user, .extra = sdk_extras()};
  auto const merged = run(io, c.async_fetch_user_data(std::move(request), asio::use_awaitable));
  EXPECT_EQ(merged.pages, pages);
  EXPECT_TRUE(same_export(expected(srv, user), merged.data));
  auto const seen = srv.recent_requests();
  EXPECT_EQ(seen.size(), pages);
  EXPECT_TRUE(every_request_carries(seen, user, sdk_extras()));
}

TEST(ClientRequestFields, SentAgainWhenAPageIsAskedAgain) {
  mock::server srv(recording_server());
  std::string const user = longest_user(srv);
  srv.add_fault(mock::fault{.kind = mock::fault_kind::unavailable, .user_id = user, .page_index = 1,
                            .max_times = 2});
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  user_data_request request{.organization_id = srv.organization_id(), .user_id = user, .extra = sdk_extras()};
  auto got = run(io, stream_with(c, std::move(request), page_format::parsed));
  EXPECT_EQ(got.pages, srv.expected_pages(user));
  EXPECT_EQ(c.stats().retries, 2u);
  auto const seen = srv.recent_requests();
  EXPECT_EQ(seen.size(), srv.expected_pages(user) + 2);
  EXPECT_TRUE(every_request_carries(seen, user, sdk_extras()));
}

TEST(ClientRequestFields, ReservedKeysAreRefusedBeforeAnyRequest) {
  mock::server srv(recording_server());
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::string const user = srv.user_ids().front();
  for (std::string key : {"organizationId", "userId", "pageToken"}) {
    auto extras = sdk_extras();
    extras[key] = "forged";
    page_stream pages = c.async_fetch_all_user_data(
        {.organization_id = srv.organization_id(), .user_id = user, .extra = extras});
    auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
    EXPECT_EQ(ec, make_error_code(errc::invalid_request)) << key;
    EXPECT_FALSE(page.has_value());
    EXPECT_EQ(pages.last_error().status, status::invalid_argument) << key;
    EXPECT_EQ(pages.last_error().attempts, 0u);
    EXPECT_NE(pages.last_error().message.find("extra." + key + " is reserved"), std::string::npos)
        << pages.last_error().message;
    EXPECT_TRUE(pages.done());

    // The merged form, with an exception.
    try {
      run(io, c.async_fetch_user_data(
                  {.organization_id = srv.organization_id(), .user_id = user, .extra = extras},
                  asio::use_awaitable));
      ADD_FAILURE() << key << " must be refused";
    } catch (velt::error const& e) {
      EXPECT_EQ(e.status(), status::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_TRUE(srv.recent_requests().empty());
  EXPECT_EQ(c.stats().connections_opened, 0u);
}

}  // namespace
}  // namespace velt::test
