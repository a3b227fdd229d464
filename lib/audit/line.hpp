// SPDX-License-Identifier: BSL-1.0
// line.hpp: the audit log line (design note §2), pure: building a line with its hash (and,
// for a signed run_end, its signature) and checking one. No I/O.
#pragma once

#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace velt::audit::detail {

/// A line, its newline included, is at most this long.
inline constexpr std::size_t max_line_bytes = 64 * 1024;
/// `prev` of line 1.
inline constexpr std::string_view zero_hash = "0000000000000000000000000000000000000000000000000000000000000000";

/// RFC 3339 UTC with milliseconds and `Z`: "2026-12-06T02:50:00.123Z" (truncated, not rounded).
std::string format_utc_ms(std::chrono::system_clock::time_point t);
/// Parses exactly the form `format_utc_ms` writes; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_utc_ms(std::string_view text);

/// Throws `error` (`invalid_argument`) when `members` holds an envelope key, a floating-point
/// number (anywhere inside), or when `name` is empty.
void check_event(std::string_view name, boost::json::object const& members);

/// What makes a line a `run_end` signed with a key.
struct line_signer {
  std::string key_sha256;                                          ///< The key's fingerprint.
  std::function<std::array<std::byte, 64>(std::string_view)> sign; ///< Ed25519 over the message.
};

/// The envelope of a line to build.
struct envelope {
  std::uint64_t seq = 0;
  std::string_view prev;
  std::string_view run;
  std::string_view at;
};

/// A built line: its text with the newline, and its `h`.
struct built_line {
  std::string text;
  std::string h;
};

/// Builds a line: the envelope, `event`, the members in order, [keySha256, sig], `h`.
/// Members are not checked here (see `check_event`).
built_line build_line(envelope const& env, std::string_view event, boost::json::object const& members,
                      line_signer const* signer = nullptr);

/// A line that passed its own checks (parse, `h`, envelope).
struct checked_line {
  boost::json::object object;
  std::uint64_t seq = 0;
  std::string prev;
  std::string run;
  std::string event;
  std::string h;
  /// For a signed run_end: the key's fingerprint, the signature, and the signed message.
  std::optional<std::string> key_sha256;
  std::optional<std::array<std::byte, 64>> sig;
  std::string signed_message;
};

/// Why a line failed its own checks.
enum class line_fault {
  not_audit_line,  ///< Not JSON, not the envelope, or over 64 KiB: "line N is not an audit line: <reason>".
  changed,         ///< Parses, but its content does not match its `h`.
};

/// The outcome of `check_line`: the line, or the fault and its reason.
struct line_check {
  std::optional<checked_line> line;
  line_fault fault = line_fault::not_audit_line;
  std::string reason;
};

/// Checks one line (without its newline) on its own: at most 64 KiB, a JSON object ending
/// in `"h"`, `h` = SHA-256 of the rest, canonical form, the envelope's members and types.
line_check check_line(std::string_view text);

}  // namespace velt::audit::detail
