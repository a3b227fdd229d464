// SPDX-License-Identifier: BSL-1.0
// progress.hpp: the progress line of an export (sans-I/O formatting).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace velt::gdpr {

/// What the progress line shows.
struct progress_snapshot {
  std::uint64_t ok = 0, failed = 0, skipped = 0;
  std::optional<std::uint64_t> total;  ///< users of the run, when known in advance
  std::uint64_t pages = 0;             ///< pages received by this run
  std::uint64_t items = 0;
  std::uint64_t bytes = 0;             ///< item bytes received (serialized)
  std::uint64_t retries = 0;
  std::chrono::milliseconds elapsed{0};
  /// The request rate the run paces itself to after the server throttled it; none: no limit.
  std::optional<double> rate;
  /// Why new requests wait now, and for how long they have.
  enum class pause { none, throttled, outage } paused = pause::none;
  std::chrono::milliseconds paused_for{0};

  std::uint64_t done() const noexcept { return ok + failed + skipped; }
};

/// "users 412/1000 (2 failed, 5 skipped) | 1.23k pages | 45.6k items | 123 MB |
///  310 pages/s | 3 retries | paced to 95 req/s | ETA 0:42". Parts that are zero or unknown
/// are left out (ETA needs a total and some finished users). While the run is paused the
/// line says why and for how long: "paused: server unavailable for 4.2 s" or "paused:
/// throttled (the server asked to wait) for 12.0 s".
std::string format_progress(progress_snapshot const& s);

/// Estimated time left: users still to do, at the pace of the users exported so far
/// (skipped users are instant and not counted in the pace). std::nullopt when unknown or
/// when no user is left.
std::optional<std::chrono::seconds> estimate_remaining(progress_snapshot const& s);

}  // namespace velt::gdpr
