// SPDX-License-Identifier: BSL-1.0
// time_format.hpp: timestamps and human-readable numbers for files and terminals.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace velt::gdpr {

/// RFC 3339 UTC with seconds: "2026-11-26T10:00:00Z".
std::string format_utc(std::chrono::system_clock::time_point t);

/// Parses exactly the form `format_utc` writes ("YYYY-MM-DDTHH:MM:SSZ"); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text);

/// "0:42", "12:03", "1:02:03" (h:mm:ss once an hour is reached).
std::string format_clock(std::chrono::seconds d);

/// "950", "12.3k", "4.56M": three significant digits.
std::string format_count(std::uint64_t n);

/// "512 B", "12.3 MB", "1.23 GB" (decimal units).
std::string format_bytes(std::uint64_t n);

/// "0.8 s", "12.4 s", "3 min 20 s".
std::string format_seconds(std::chrono::milliseconds d);

/// "90" (seconds), "90s", "500ms", "15m", "1.5h": a duration of at least 1 ms; none when
/// `text` is not one.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace velt::gdpr
