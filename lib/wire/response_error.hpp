// SPDX-License-Identifier: BSL-1.0
// Building error_details for a response (internal to the wire codec).
#pragma once

#include <velt/wire.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace velt::wire::detail {

/// A problem the client found in a response (`errc`), with the response's HTTP status and
/// Retry-After.
error_details response_error(errc e, std::string message, http_response_view const& r,
                             std::chrono::system_clock::time_point now);

/// An error the server reported (`status`), with the response's HTTP status and Retry-After.
error_details server_error(status s, std::string message, http_response_view const& r,
                           std::chrono::system_clock::time_point now);

/// The error described by a parsed JSON body that is not a success (an `{"error": ...}`
/// envelope, or a status/message pair at the top level or in `result`).
error_details error_from_json(boost::json::object const& root, http_response_view const& r,
                              std::chrono::system_clock::time_point now);

/// Whether a parsed body is an error envelope: it has an `"error"` member that is not null.
bool is_error_envelope(boost::json::object const& root) noexcept;

/// "string", "number", ... for messages about unexpected JSON types.
std::string_view kind_name(boost::json::value const& v) noexcept;

/// A short, printable excerpt of a body for an error message: HTML tags, comments,
/// scripts and styles stripped (for bodies that start with '<'), common entities decoded,
/// control characters and whitespace runs collapsed to one space, invalid UTF-8 replaced
/// by '?', at most `max_chars` code points (then "...").
std::string body_excerpt(std::string_view body, std::size_t max_chars = 200);

/// How much of a server's own message (the `message` of a JSON error) an error message
/// quotes.
inline constexpr std::size_t max_server_message_bytes = 4096;

/// A server's message for an error message: unchanged when it has at most `max_bytes`
/// bytes; otherwise its first bytes (at most `max_bytes`, never ending inside a UTF-8
/// sequence), then "... (N bytes)" with N the message's full size, so a megabyte message
/// makes neither a megabyte error nor a megabyte log line.
std::string message_excerpt(std::string_view message,
                            std::size_t max_bytes = max_server_message_bytes);

/// The reason phrase of an HTTP status ("Bad Gateway"), empty when not a common one.
std::string_view reason_phrase(unsigned http_status) noexcept;

}  // namespace velt::wire::detail
