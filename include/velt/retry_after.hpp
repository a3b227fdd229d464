// SPDX-License-Identifier: BSL-1.0
// velt/retry_after.hpp: parsing of the HTTP `Retry-After` header (RFC 9110 §10.2.3).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace velt {

/// Parses a `Retry-After` value: delta-seconds ("120") or an HTTP-date in any of the three
/// forms of RFC 9110 (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", obsolete RFC 850
/// "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994"). Surrounding
/// whitespace (SP, HTAB) is ignored. Returns the delay relative to `now`, rounded up to
/// whole seconds: a date in the past (or `now`) gives 0 s; a negative or signed number, a
/// fraction, garbage or an impossible date (month name, day of that month including leap
/// years, hour < 24, minute < 60, second <= 60) gives `std::nullopt`.
///
/// - Names and "GMT" are case-sensitive, as in RFC 9110; the day name must be a valid one
///   but is not checked against the date.
/// - A two-digit RFC 850 year is the year with those last two digits that is at most 50
///   years after `now`'s year (RFC 9110 §5.6.7).
/// - Delta-seconds above 2^31 (any number of digits) saturate at 2^31 s = 2147483648 s
///   (RFC 9111 §1.2.2), so callers can add the result to a time point without overflow;
///   they clamp to their own maximum.
///
/// Pure and thread-safe: no locale, no global state.
std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace velt
