// SPDX-License-Identifier: BSL-1.0
// The error model: status names, the two error categories, the canonical-status mapping
// and the velt::error exception.
#include <velt/error.hpp>
#include <velt/wire.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/throw_exception.hpp>

#include <array>
#include <utility>

namespace velt {
namespace {

struct status_info {
  std::string_view name;
  char const* description;
};

// Indexed by the enum's value (the gRPC numbering).
constexpr std::array<status_info, 17> status_table{{
    {"OK", "the request succeeded"},
    {"CANCELLED", "the operation was cancelled"},
    {"UNKNOWN", "unknown error"},
    {"INVALID_ARGUMENT", "the request was invalid"},
    {"DEADLINE_EXCEEDED", "the deadline expired before the operation completed"},
    {"NOT_FOUND", "the requested entity was not found"},
    {"ALREADY_EXISTS", "the entity already exists"},
    {"PERMISSION_DENIED", "the caller does not have permission (check the auth token)"},
    {"RESOURCE_EXHAUSTED", "rate limited or out of quota; retry later"},
    {"FAILED_PRECONDITION", "the system is not in a state required for the operation"},
    {"ABORTED", "the operation was aborted (concurrency conflict); retry"},
    {"OUT_OF_RANGE", "a value was out of the valid range"},
    {"UNIMPLEMENTED", "the operation is not implemented by the server"},
    {"INTERNAL", "internal error"},
    {"UNAVAILABLE", "the service is unavailable; retry later"},
    {"DATA_LOSS", "unrecoverable data loss or corruption"},
    {"UNAUTHENTICATED", "the request lacks valid authentication credentials"},
}};

constexpr bool in_status_range(int v) noexcept {
  return v >= 0 && v < static_cast<int>(status_table.size());
}

class status_category_impl final : public boost::system::error_category {
 public:
  // A fixed id makes codes compare equal across shared-library boundaries.
  constexpr status_category_impl() noexcept : error_category(0x8f3c'2a71'5e0d'b901ULL) {}

  char const* name() const noexcept override { return "velt.status"; }

  std::string message(int ev) const override {
    if (!in_status_range(ev)) return "unrecognised velt status " + std::to_string(ev);
    auto const& info = status_table[static_cast<std::size_t>(ev)];
    return std::string(info.name) + ": " + info.description;
  }
};

struct client_errc_info {
  errc code;
  char const* description;
};

constexpr std::array<client_errc_info, 12> client_errc_table{{
    {errc::invalid_request, "invalid request (refused before sending)"},
    {errc::malformed_response, "malformed response: not JSON or not the documented envelope"},
    {errc::response_too_large, "response larger than the configured limit"},
    {errc::response_too_deep, "response JSON nested deeper than the configured limit"},
    {errc::unexpected_redirect, "unexpected redirect (redirects are not followed)"},
    {errc::retry_budget_exhausted, "the client-wide retry budget is exhausted"},
    {errc::deadline_exceeded, "client-side timeout or deadline exceeded"},
    {errc::plain_http_refused, "plain http:// refused (set allow_plain_http to permit it)"},
    {errc::proxy_auth_required, "the HTTP proxy requires (other) credentials (407)"},
    {errc::proxy_refused, "the HTTP proxy refused the tunnel"},
    {errc::proxy_unavailable, "the HTTP proxy could not open the tunnel (5xx)"},
    {errc::unsupported_content_coding, "response body in a content coding the client cannot decode"},
}};

class client_category_impl final : public boost::system::error_category {
 public:
  constexpr client_category_impl() noexcept : error_category(0x8f3c'2a71'5e0d'b902ULL) {}

  char const* name() const noexcept override { return "velt.client"; }

  std::string message(int ev) const override {
    for (auto const& info : client_errc_table)
      if (static_cast<int>(info.code) == ev) return info.description;
    return "unrecognised velt client error " + std::to_string(ev);
  }
};

status_category_impl const status_category_instance;
client_category_impl const client_category_instance;

status canonical_status_of(errc e) noexcept {
  switch (e) {
    case errc::invalid_request:
    case errc::plain_http_refused:
      return status::invalid_argument;
    case errc::malformed_response:
      return status::internal;
    case errc::response_too_large:
    case errc::response_too_deep:
      return status::out_of_range;
    case errc::unexpected_redirect:
      return status::failed_precondition;
    case errc::retry_budget_exhausted:
      return status::unavailable;
    case errc::deadline_exceeded:
      return status::deadline_exceeded;
    case errc::proxy_auth_required:
      return status::unauthenticated;
    case errc::proxy_refused:
      return status::permission_denied;
    case errc::proxy_unavailable:
      return status::unavailable;
    case errc::unsupported_content_coding:
      return status::unimplemented;
  }
  return status::unknown;
}

}  // namespace

std::string_view to_string(status s) noexcept {
  auto const v = static_cast<int>(s);
  return in_status_range(v) ? status_table[static_cast<std::size_t>(v)].name : "UNKNOWN";
}

std::optional<status> status_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < status_table.size(); ++i)
    if (status_table[i].name == name) return static_cast<status>(i);
  return std::nullopt;
}

status status_from_http(unsigned http_status) noexcept {
  switch (http_status) {
    case 400: return status::invalid_argument;
    case 401: return status::unauthenticated;
    case 403: return status::permission_denied;
    case 404: return status::not_found;
    case 408: return status::deadline_exceeded;
    case 409: return status::aborted;
    case 429: return status::resource_exhausted;
    case 500: return status::internal;
    case 501: return status::unimplemented;
    case 502:
    case 503: return status::unavailable;
    case 504: return status::deadline_exceeded;
    default: break;
  }
  if (http_status >= 400 && http_status < 500) return status::failed_precondition;
  if (http_status >= 500 && http_status < 600) return status::internal;
  return status::unknown;
}

bool is_retryable(status s) noexcept {
  switch (s) {
    case status::unavailable:
    case status::resource_exhausted:
    case status::deadline_exceeded:
    case status::aborted:
    case status::internal:
    case status::unknown:
      return true;
    case status::ok:
    case status::cancelled:
    case status::invalid_argument:
    case status::not_found:
    case status::already_exists:
    case status::permission_denied:
    case status::failed_precondition:
    case status::out_of_range:
    case status::unimplemented:
    case status::data_loss:
    case status::unauthenticated:
      return false;
  }
  return false;
}

boost::system::error_category const& status_category() noexcept {
  return status_category_instance;
}

boost::system::error_code make_error_code(status s) noexcept {
  return {static_cast<int>(s), status_category()};
}

boost::system::error_category const& client_category() noexcept {
  return client_category_instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

status canonical_status(boost::system::error_code const& ec) noexcept {
  if (!ec) return status::ok;
  if (ec.category() == status_category())
    return in_status_range(ec.value()) ? static_cast<status>(ec.value()) : status::unknown;
  if (ec.category() == client_category()) return canonical_status_of(static_cast<errc>(ec.value()));
  if (ec == boost::asio::error::operation_aborted ||
      ec == boost::system::errc::operation_canceled)
    return status::cancelled;
  if (ec == boost::asio::error::timed_out || ec == boost::system::errc::timed_out ||
      ec == boost::beast::error::timeout)
    return status::deadline_exceeded;
  return status::unavailable;
}

std::string error_details::to_string() const {
  std::string out(velt::to_string(status));
  if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  if (attempts > 1) out += ", after " + std::to_string(attempts) + " attempts";
  return out;
}

failure_kind classify(error_details const& e) noexcept {
  if (e.status == status::resource_exhausted || e.http_status == 429) return failure_kind::throttled;
  if (e.http_status != 0) return failure_kind::server;
  return failure_kind::transport;
}

namespace {
// An answer with one of these statuses says the server did not act on the request.
bool says_not_done(status s) noexcept {
  switch (s) {
    case status::invalid_argument:
    case status::failed_precondition:
    case status::out_of_range:
    case status::permission_denied:
    case status::unauthenticated:
    case status::not_found:
    case status::already_exists:
    case status::resource_exhausted:
    case status::unimplemented:
      return true;
    default:
      return false;
  }
}
}  // namespace

bool may_have_taken_effect(error_details const& e) noexcept {
  if (e.delivery == delivery::not_sent) return false;
  if (e.http_status >= 400 && e.http_status < 500) return false;
  if (e.http_status != 0 && says_not_done(e.status)) return false;
  return true;
}

error_details make_error_details(boost::system::error_code code, std::string message,
                                 unsigned http_status) {
  error_details d;
  d.status = canonical_status(code);
  d.code = code;
  d.message = std::move(message);
  d.http_status = http_status;
  return d;
}

error::error(error_details details)
    : boost::system::system_error(details.code, details.to_string()),
      details_(std::make_shared<error_details const>(std::move(details))),
      what_(std::make_shared<std::string const>(details_->to_string())) {}

void throw_exception_from_error(error_details const& e, boost::source_location const& loc) {
  boost::throw_with_location(error(e), loc);
}

}  // namespace velt
