// SPDX-License-Identifier: BSL-1.0
// velt/error.hpp: the one error model of the SDK.
//
// Every failure is described by `velt::error_details`: a canonical status (the gRPC /
// Firebase names the Velt API uses), the server's message, the HTTP status, the
// `Retry-After` the response carried and the number of attempts made. At the Asio boundary
// a failure is a `boost::system::error_code`; coroutine users get a `velt::error`
// exception that carries the full details.
//
// Messages never contain the API key or the auth token.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace velt {

/// Canonical status codes, numbered as in gRPC. `to_string` gives the API's spelling
/// (`"INVALID_ARGUMENT"`, ...).
enum class status : int {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

/// The API's spelling of a status, e.g. `"PERMISSION_DENIED"`.
std::string_view to_string(status s) noexcept;

/// Parses the API's spelling (exact, upper case). Unknown names give `std::nullopt`.
std::optional<status> status_from_string(std::string_view name) noexcept;

/// The canonical status for an HTTP status code when the body names none
/// (an HTML 502 page from a gateway, say): 400→INVALID_ARGUMENT, 401→UNAUTHENTICATED,
/// 403→PERMISSION_DENIED, 404→NOT_FOUND, 408→DEADLINE_EXCEEDED, 409→ABORTED,
/// 429→RESOURCE_EXHAUSTED, 500→INTERNAL, 501→UNIMPLEMENTED, 502/503→UNAVAILABLE,
/// 504→DEADLINE_EXCEEDED, other 4xx→FAILED_PRECONDITION, other 5xx→INTERNAL, else UNKNOWN.
status status_from_http(unsigned http_status) noexcept;

/// Whether the client retries a failure with this canonical status (for requests that are
/// safe to resend). Retried: UNAVAILABLE, RESOURCE_EXHAUSTED (throttling; honours
/// Retry-After), DEADLINE_EXCEEDED, ABORTED, INTERNAL, UNKNOWN. Never retried:
/// INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED,
/// FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED, DATA_LOSS, CANCELLED (and OK, which
/// is no failure).
bool is_retryable(status s) noexcept;

/// The error category of `velt::status` values (name `"velt.status"`).
boost::system::error_category const& status_category() noexcept;
/// `s` as an error code of `status_category()`; lets a `velt::status` convert to
/// `boost::system::error_code`.
boost::system::error_code make_error_code(status s) noexcept;

/// Problems the client itself detects (category `"velt.client"`). Each maps to a
/// canonical status through `canonical_status`.
enum class errc : int {
  invalid_request = 1,     ///< refused before any I/O (INVALID_ARGUMENT)
  malformed_response,      ///< body is not JSON or not the documented envelope (INTERNAL)
  response_too_large,      ///< body or headers over the configured limit (OUT_OF_RANGE)
  response_too_deep,       ///< JSON nesting over the configured limit (OUT_OF_RANGE)
  unexpected_redirect,     ///< a 3xx answer; redirects are never followed (FAILED_PRECONDITION)
  retry_budget_exhausted,  ///< the client-wide retry budget is spent (UNAVAILABLE)
  deadline_exceeded,       ///< a client-side timeout or deadline passed (DEADLINE_EXCEEDED)
  plain_http_refused,      ///< an http:// URL without allow_plain_http (INVALID_ARGUMENT)
  /// The HTTP proxy answered the tunnel's CONNECT with 407 (or 401): it wants (other) credentials
  /// (UNAUTHENTICATED, not retried). `error_details::proxy` names the proxy.
  proxy_auth_required,
  /// The HTTP proxy refused the tunnel with a 4xx other than 407 (a 403 from its access
  /// rules, say) or an answer that is not HTTP (PERMISSION_DENIED, not retried).
  proxy_refused,
  /// The HTTP proxy answered the CONNECT with a 5xx (502, 503, 504: it could not reach the
  /// origin, or is overloaded) (UNAVAILABLE, retried like an unreachable origin).
  proxy_unavailable,
  /// A response body in a content coding the client cannot decode: anything but gzip
  /// (`br`, `deflate`, stacked codings, ...); the message names it (UNIMPLEMENTED).
  unsupported_content_coding,
};

/// The error category of `velt::errc` values (name `"velt.client"`).
boost::system::error_category const& client_category() noexcept;
/// `e` as an error code of `client_category()`; lets a `velt::errc` convert to
/// `boost::system::error_code`.
boost::system::error_code make_error_code(errc e) noexcept;

/// The canonical status of any error code: velt statuses as they are (values outside the
/// enum → UNKNOWN), `velt::errc` as documented above, `operation_aborted` /
/// `errc::operation_canceled` → CANCELLED, `timed_out` / `beast::error::timeout` →
/// DEADLINE_EXCEEDED, other transport (socket, TLS, HTTP framing) errors → UNAVAILABLE,
/// no error → OK.
status canonical_status(boost::system::error_code const& ec) noexcept;

/// How far a failed request got: what the server may have seen of it.
///
/// The client decides it from the transport alone: whether a request byte was written, and
/// whether a complete HTTP response was read. A complete response whose body cannot be
/// decoded (malformed JSON, a missing `jobId`, a page token that would loop) is `answered`,
/// with `http_status` set: the server did answer, and the answer's status says what it did
/// (an unreadable 2xx may still have taken effect; see `may_have_taken_effect`).
///
/// The details describe the operation's last attempt (a transparent resend on a fresh
/// connection, after a kept-alive one died, is that attempt). An operation that ends
/// between attempts (cancelled while waiting to retry, or its deadline passed before the
/// next one) reports `not_sent` when nothing it sent can have taken effect, else
/// `maybe_delivered`; one cancelled during an attempt reports how far that attempt got.
enum class delivery : unsigned char {
  /// No byte of the request was written: refused before any I/O, the name could not be
  /// resolved, no connection could be made, the TLS handshake failed, or the operation
  /// was cancelled while waiting for a pooled connection. The server cannot have acted on
  /// it.
  not_sent,
  /// The request was written (perhaps only partly) but no complete answer was read: a
  /// reset, a timeout, a truncated body, headers or a body over the configured limits, too
  /// many interim (1xx) responses, or a wait for the body budget that expired (the budget
  /// is taken once the response's header is in, so the server has seen the request). The
  /// server may have acted on it.
  maybe_delivered,
  /// A complete HTTP response was read (`http_status` is set): an error envelope, an HTML
  /// gateway page, a throttling answer, a redirect, or a body that could not be decoded.
  /// What the answer says decides whether the server acted (see `may_have_taken_effect`).
  answered,
};

/// The three kinds of failure that retries, statistics and batch pacing tell apart.
enum class failure_kind : unsigned char {
  throttled,  ///< HTTP 429 or RESOURCE_EXHAUSTED: the server asks the client to slow down
  server,     ///< another answer from a server (4xx, 5xx, a malformed body, ...)
  transport,  ///< no answer: connection failure, reset, timeout, TLS failure
};

/// Everything known about one failure.
///
/// Operations that take an `error_details&` write it just before they complete (on the
/// operation's executor); the object must stay alive and untouched by others until the
/// completion handler has run. It is never written after that.
struct error_details {
  boost::system::error_code code;    ///< what the completion handler receives
  velt::status status = status::ok;  ///< canonical status (from the body first, HTTP second)
  std::string message;               ///< the server's message, or the client's description
  unsigned http_status = 0;          ///< 0 when no HTTP response was received
  std::optional<std::chrono::seconds> retry_after;  ///< from the response, when it had one
  unsigned attempts = 0;             ///< requests made for this operation (0: none)
  /// How far the last attempt got. `not_sent` for failures found before any I/O.
  velt::delivery delivery = delivery::not_sent;
  /// The HTTP proxy ("host:port", never its credentials) when the failure was the proxy's:
  /// it could not be reached, refused the tunnel (`errc::proxy_*`) or broke the protocol.
  /// Empty otherwise (no proxy, or the failure happened after the tunnel was up).
  std::string proxy;

  /// "PERMISSION_DENIED (HTTP 403): <message>", plus ", after 3 attempts" when attempts > 1.
  /// The " (HTTP n)" part is left out when no response was received, ": <message>" when
  /// the message is empty. A message that quotes an earlier failure ("retry budget
  /// exhausted, not retried; last error: ...") quotes it without its attempts, so the
  /// attempts are said once.
  std::string to_string() const;
};

/// Throttling, another server answer, or no answer (from `status` and `http_status`).
failure_kind classify(error_details const& e) noexcept;

/// Whether a failed request may still have taken effect on the server (a deletion may have
/// been queued). False only when the request was never sent, or when the server answered
/// with a 4xx or with a status saying it did nothing (INVALID_ARGUMENT, NOT_FOUND,
/// ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, RESOURCE_EXHAUSTED,
/// FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED; the API may pair any of them with any
/// HTTP status). True for everything else: a transport failure after sending, a 5xx (a
/// gateway may give up while the API goes on), an unreadable 2xx. Never resend a request
/// that is not safe to repeat while this is true.
bool may_have_taken_effect(error_details const& e) noexcept;

/// Builds details for `code` with its canonical status (`canonical_status(code)`) and
/// `message`; no Retry-After, no attempts.
error_details make_error_details(boost::system::error_code code, std::string message,
                                 unsigned http_status = 0);

/// The exception thrown to coroutine users. `what()` starts with `details().to_string()`
/// (status, HTTP status, message, attempts); `code()` is `details().code`; `details()` has
/// everything. Copying never throws (the details are shared, immutable).
class error : public boost::system::system_error {
 public:
  /// An exception for `details`: `code()` is `details.code`, `what()` its `to_string()`.
  explicit error(error_details details);
  /// Everything known about the failure.
  error_details const& details() const noexcept { return *details_; }
  /// The canonical status, `details().status`.
  velt::status status() const noexcept { return details_->status; }
  /// `details().to_string()`: e.g. "PERMISSION_DENIED (HTTP 403): Invalid API key".
  char const* what() const noexcept override { return what_->c_str(); }

 private:
  std::shared_ptr<error_details const> details_;
  std::shared_ptr<std::string const> what_;
};

}  // namespace velt

namespace boost::system {
template <>
struct is_error_code_enum<velt::status> : std::true_type {};
template <>
struct is_error_code_enum<velt::errc> : std::true_type {};
}  // namespace boost::system
