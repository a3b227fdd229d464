// SPDX-License-Identifier: BSL-1.0
// pacing.hpp: run-wide pacing of requests. When the server throttles (HTTP 429 /
// RESOURCE_EXHAUSTED) the whole run slows down, not just the request that was refused.
//
// Three limits, all sans-I/O (the caller passes the time):
// - `aimd_window`: how many page requests may be in flight. Starts at the run's
//   concurrency; each throttling answer halves it (at most once per cool-down, so a burst
//   of 429s counts once); each successful page adds 1/window (about +1 per window of
//   successes), back up to the maximum.
// - a pause: after a throttling answer no new request starts before the delay the client
//   chose for its retry (which honours the server's Retry-After).
// - `rate_limiter`: `--rate` requests per second at most, evenly spaced.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

namespace velt::detail {

using throttle_clock = std::chrono::steady_clock;

/// Additive-increase, multiplicative-decrease window of requests in flight.
class aimd_window {
 public:
  /// `max` >= 1. The window starts at `max`.
  explicit aimd_window(std::size_t max, double decrease = 0.5,
                       throttle_clock::duration cooldown = std::chrono::seconds(1));

  /// A request succeeded: +1/window, up to the maximum.
  void on_success() noexcept;
  /// The server throttled: window *= decrease (not below 1), unless it was already
  /// decreased less than a cool-down ago. Returns true when it decreased now.
  bool on_throttled(throttle_clock::time_point now) noexcept;

  /// Requests that may be in flight now: floor(window), at least 1.
  std::size_t limit() const noexcept;
  double value() const noexcept { return window_; }
  std::size_t max() const noexcept { return max_; }

 private:
  std::size_t max_;
  double decrease_;
  throttle_clock::duration cooldown_;
  double window_;
  std::optional<throttle_clock::time_point> last_decrease_;
};

/// Requests per second, evenly spaced (a GCRA with no burst beyond `burst` requests).
class rate_limiter {
 public:
  /// `per_second` > 0; `burst` >= 1 requests may start back to back.
  explicit rate_limiter(double per_second, double burst = 1);
  /// How long to wait before a request may start (zero: now). Does not reserve.
  throttle_clock::duration wait_time(throttle_clock::time_point now) const noexcept;
  /// Records a request starting at `now` (call when `wait_time(now)` is zero).
  void take(throttle_clock::time_point now) noexcept;

 private:
  throttle_clock::duration interval_;
  throttle_clock::duration tolerance_;
  throttle_clock::time_point tat_{};  // theoretical arrival time of the next request
};

/// The three limits together, shared by every user of a run. Thread-safe.
class request_throttle {
 public:
  /// `max_in_flight` >= 1; `rate`: requests per second, none when unset.
  request_throttle(std::size_t max_in_flight, std::optional<double> rate);

  /// Either a permit (then call `release` when the request is over) or how long to wait
  /// before asking again. When only the window is full, the wait is a short poll.
  struct decision {
    bool granted = false;
    throttle_clock::duration wait{};
  };
  decision try_acquire(throttle_clock::time_point now);
  /// Gives a permit back; `success` feeds the additive increase.
  void release(bool success);

  /// The client is about to retry after a throttling answer, in `delay`. Returns true when
  /// this halved the window (worth a log line).
  bool on_throttled(throttle_clock::time_point now, throttle_clock::duration delay);

  struct snapshot {
    std::size_t in_flight = 0;
    std::size_t limit = 0;
    std::size_t max = 0;
    std::uint64_t throttle_events = 0;
    std::uint64_t decreases = 0;
  };
  snapshot stats() const;

  /// The wait when only the window is full.
  static constexpr throttle_clock::duration poll_interval = std::chrono::milliseconds(10);

 private:
  mutable std::mutex mutex_;
  aimd_window window_;
  std::optional<rate_limiter> rate_;
  std::size_t in_flight_ = 0;
  throttle_clock::time_point paused_until_{};
  std::uint64_t throttle_events_ = 0;
  std::uint64_t decreases_ = 0;
};

}  // namespace velt::detail
