// SPDX-License-Identifier: BSL-1.0
// velt/wire.hpp: encoding requests into the `{"data": {...}}` envelope and decoding HTTP
// responses into typed values or `velt::error_details`. Sans-I/O: no sockets, no clock.
//
// Usable on its own by callers who bring their own HTTP stack.
#pragma once

#include <velt/error.hpp>
#include <velt/model.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace velt {

/// Lets `boost::system::result<T, error_details>::value()` throw `velt::error`.
[[noreturn]] void throw_exception_from_error(error_details const& e,
                                             boost::source_location const& loc);

/// A value or the details of why there is none.
template <class T>
using result = boost::system::result<T, error_details>;

}  // namespace velt

/// Sans-I/O encoding of requests and decoding of responses of the three endpoints (no
/// sockets, no clock), for callers who bring their own HTTP stack.
namespace velt::wire {

/// The three endpoints.
enum class endpoint { get_user_data, delete_user_data, delete_status };

/// The request path, e.g. `/v2/users/data/get`.
std::string_view path(endpoint e, api_version v = api_version::v2) noexcept;

/// The members of a get-user-data request's `data` object that the fields of
/// `user_data_request` set: `user_data_request::extra` may not hold them.
inline constexpr std::string_view reserved_user_data_keys[] = {"organizationId", "userId",
                                                               "pageToken"};

/// Validation before any I/O. A failure is `errc::invalid_request` (INVALID_ARGUMENT,
/// attempts 0) with a message that names the field ("user_id is empty", "user_ids is
/// empty", "user_ids[2] contains a NUL byte", "page_token is not valid UTF-8", ...).
/// Ids must be non-empty, free of NUL bytes and valid UTF-8 (JSON cannot carry other
/// bytes); a page token, when present, the same; `extra` as `validate_extra` says.
/// Fields are checked in declaration order and the first problem is reported.
std::optional<error_details> validate(user_data_request const& r);
/// The same for a deletion request: `user_ids` must hold at least one id, and every user
/// id and organization id is checked as above.
std::optional<error_details> validate(delete_user_data_request const& r);
/// The same for a status request: its `job_id`.
std::optional<error_details> validate(delete_status_request const& r);

/// The problem with the members `user_data_request::extra` would add to a request, as
/// `validate` reports it (`errc::invalid_request`, the member named after `field`), or
/// nullopt when they can be sent: a key of `reserved_user_data_keys` ("extra.userId is
/// reserved: user_id sets it"), a key or string that is not valid UTF-8, a number that is
/// not finite (JSON has none), or values nested deeper than 64 levels. Any other JSON
/// value passes, unexamined: the server decides what it means. Messages name members by
/// key (`extra.veltUserIds[1]`), never quote values.
std::optional<error_details> validate_extra(boost::json::object const& extra,
                                            std::string_view field = "extra");

/// The JSON request body: `{"data": {...}}` with the API's camelCase keys
/// (`organizationId`, `userId`, `pageToken`; `userIds`, `organizationIds`; `jobId`), in that
/// order; `pageToken` and `organizationIds` are omitted when absent/empty. The members of
/// `user_data_request::extra` follow, in their order; a reserved key among them is left
/// out (the typed fields always win). Strings are escaped by Boost.JSON's serializer,
/// otherwise byte-for-byte. Does not validate.
std::string encode(user_data_request const& r);
/// The same for a deletion request: `userIds`, then `organizationIds` unless empty.
std::string encode(delete_user_data_request const& r);
/// The same for a status request: `jobId`.
std::string encode(delete_status_request const& r);

/// Bounds on what a server can make the decoder hold.
struct decode_limits {
  std::size_t max_body_bytes = 64u << 20;  ///< larger bodies → errc::response_too_large
  std::size_t max_depth = 64;              ///< deeper JSON → errc::response_too_deep
};

/// What the decoder needs of an HTTP response.
struct http_response_view {
  unsigned status = 0;               ///< HTTP status code
  std::string_view body;             ///< the complete body
  std::string_view retry_after;      ///< the Retry-After header value, empty when absent
  std::string_view content_type;     ///< informational; bodies are sniffed, not trusted
};

/// Parses JSON with exact numbers: every double comes out as the correctly rounded value
/// of its text (Boost.JSON 1.81's own parser can be off by one ULP), integers stay
/// int64/uint64 as in Boost.JSON (beyond uint64 they become doubles). A number below the
/// smallest subnormal becomes a signed zero (its correct rounding); one beyond DBL_MAX is
/// refused (no double, and no JSON output, can carry it). Fails with
/// errc::response_too_large (checked before parsing), errc::response_too_deep, or
/// errc::malformed_response for anything else (invalid, truncated, trailing data, invalid
/// UTF-8, empty). Messages name the problem and its byte offset, never the content.
/// An unpaired UTF-16 surrogate escape (valid JSON grammar, written by JavaScript's
/// JSON.stringify for text cut inside an emoji, but with no UTF-8 form) becomes U+FFFD
/// rather than failing the document.
result<boost::json::value> parse_json(std::string_view text, decode_limits const& limits = {});

/// Decodes a response of each endpoint. Non-2xx answers and `{"error": ...}` envelopes
/// (any status, when `"error"` is present and not null) become `decode_error`'s details.
/// A 2xx body that is not the documented envelope is errc::malformed_response (or
/// response_too_large / response_too_deep) with `http_status` set; its message never
/// quotes the body, which may hold personal data. Every error carries the response's
/// HTTP status and Retry-After. `now` is used to resolve an HTTP-date Retry-After.
///
/// Envelopes: an envelope `"status"` must be absent or "success" (any case); anything else
/// is malformed_response, quoting the envelope's message.
/// - user data: `{"result": {"data": {...}, "nextPageToken": ...}}`. Every member of
///   `data` must be an array (the offending key is named otherwise) and is kept verbatim,
///   in server order, known or not; a string or null `nextPageToken` found inside `data`
///   is kept there but is not a feature and is not used for paging. `result.nextPageToken`
///   absent, null or "" ends the stream; any other non-string is malformed.
/// - delete job: `{"result": {...}}` or the top-level `{"status", "message", "data",
///   "statusCode"}` form. `data.jobId` must be a non-empty string; `data.tasksCount` is
///   optional (null = absent) and must be a non-negative integer, integral doubles such
///   as 5.0 accepted.
/// - delete status: the same two envelopes. `isDeleteCompleted` is a required boolean;
///   `tasksLeft` a non-negative integer, which may be missing (or null) only when the job
///   is completed (then 0): an unfinished job without it is malformed rather than guessed;
///   `lastTaskCompletedTime` optional integer epoch milliseconds.
result<user_data_page> decode_user_data(http_response_view const& r,
                                        decode_limits const& limits = {},
                                        std::chrono::system_clock::time_point now =
                                            std::chrono::system_clock::now());
/// `decode_user_data` for `page_format::raw`: the same envelopes, the same errors, the
/// same features and token, but items come out as their JSON text (views into a copy of
/// the body, see `user_data_page::raw_features`) and no Boost.JSON value is built for them.
/// The body is fully validated: JSON grammar, UTF-8, the depth limit. Items are kept as the
/// server spelled them, so a number keeps all its digits (even one beyond the range of a
/// double, which the parsed form refuses). A document the fast scanner does not take as
/// the plain documented shape (an error envelope, escaped envelope keys, duplicate
/// envelope keys, unpaired surrogate escapes, ...) goes through `decode_user_data`, and a
/// success there is re-serialized into the raw form.
result<user_data_page> decode_user_data_raw(http_response_view const& r,
                                            decode_limits const& limits = {},
                                            std::chrono::system_clock::time_point now =
                                                std::chrono::system_clock::now());

/// Appends `json` (one valid JSON text, such as a raw item) to `out` without the whitespace
/// outside its strings.
void append_compact_json(std::string& out, std::string_view json);

/// Decodes a Delete All User Data response (envelopes and errors as for
/// `decode_user_data`).
result<delete_job> decode_delete_job(http_response_view const& r,
                                     decode_limits const& limits = {},
                                     std::chrono::system_clock::time_point now =
                                         std::chrono::system_clock::now());
/// Decodes a Get Delete All User Data Status response (envelopes and errors as for
/// `decode_user_data`).
result<delete_status> decode_delete_status(http_response_view const& r,
                                           decode_limits const& limits = {},
                                           std::chrono::system_clock::time_point now =
                                               std::chrono::system_clock::now());

/// The error of a response that is not a success (any status, any body); used by the
/// three decoders and by transports that must classify a response without decoding it.
/// - 3xx: errc::unexpected_redirect (redirects are never followed).
/// - A JSON object body: the status from `error.status` (a canonical name, any case;
///   "OK" and unknown names do not count), else a top-level or `result` `status` name,
///   else `status_from_http`; the message from `error.message` (or `error` when it is a
///   string, or a top-level / `result` `message`), else an excerpt of the body as below;
///   `code` and `details` are ignored. `code` is `make_error_code(status)`.
/// - Other bodies (HTML or text from a gateway, invalid or truncated JSON, JSON that is
///   not an object, JSON over the limits): `status_from_http`, with the message
///   "HTTP 502 Bad Gateway: <excerpt>" (at most 200 printable characters; HTML tags,
///   scripts, styles and comments stripped); an empty body gives "HTTP 503 with an empty
///   body". A 2xx status with such a body gives UNKNOWN: never OK.
/// - `retry_after` from `r.retry_after` via `parse_retry_after` (unset when absent or
///   unparsable); `http_status` always `r.status`; `attempts` 0.
error_details decode_error(http_response_view const& r, decode_limits const& limits = {},
                           std::chrono::system_clock::time_point now =
                               std::chrono::system_clock::now());

}  // namespace velt::wire
