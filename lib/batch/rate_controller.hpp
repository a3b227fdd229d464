// SPDX-License-Identifier: BSL-1.0
// rate_controller.hpp: discovers the request rate a server sustains from its answers and
// paces a run's requests to it. Sans-I/O: the caller passes the time; no clock, no threads
// (the caller serializes calls).
//
// In the spirit of the AWS SDKs' "adaptive" retry mode: a client-side token bucket whose
// fill rate follows CUBIC after a throttling answer. It differs in three ways, each needed
// to hold a limit with few refusals when answers take milliseconds:
// - A slow start on the rate, not on requests in flight: the run starts at
//   `initial_rate` and every successful answer adds `slow_start_gain` (the rate doubles
//   about every 25 ms while it is used), so that a limit is met by a rate about twice
//   what the server let through, not by all the run's requests at once.
// - The limit is estimated from what the server let through since a throttling episode
//   began: the successes answered since its first throttle, divided by the time since.
//   Once the server's burst is spent, that is its refill rate, whatever the run sends; a
//   request sent after a cut and refused anyway cuts again on that estimate (at most once
//   per `min_cut_interval`), so an overshoot is corrected in tens of milliseconds.
// - The curve is scaled by W_max (c is relative), so the time to recover is the same at
//   20 and at 500 requests/s; past W_max it grows at least as TCP's absolute cubic.
// A throttle only cuts the rate when its request was sent after the previous cut (once
// per reaction time, like TCP's once per round trip).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace velt::detail {

/// Counts events in ten 100 ms buckets and reports their rate over the last second, or
/// over the time since the first event when shorter (at least `min_span`), so that a
/// throttle in the first milliseconds of a run already has an estimate.
class rate_meter {
 public:
  using clock = std::chrono::steady_clock;
  /// Width of one bucket; the window is `buckets` of them.
  static constexpr clock::duration bucket_width = std::chrono::milliseconds(100);
  /// Number of buckets in the window.
  static constexpr std::size_t buckets = 10;
  /// The shortest span a rate is computed over.
  static constexpr clock::duration min_span = std::chrono::milliseconds(10);

  /// Records one event at `now` (times must not go backwards).
  void record(clock::time_point now) noexcept;
  /// Events per second over the window ending at `now`; 0 before any event.
  double rate(clock::time_point now) const noexcept;
  /// Events per second over the last `n` buckets (the newest one partly), at most the
  /// window; 0 before any event.
  double recent_rate(clock::time_point now, std::size_t n) const noexcept;

 private:
  static std::int64_t index_of(clock::time_point t) noexcept;
  std::array<std::uint32_t, buckets> counts_{};
  std::int64_t newest_ = 0;  // index of the newest bucket in counts_
  std::optional<clock::time_point> first_;
};


/// Tunables of a `rate_controller`. Defaults suit request rates from ~1 to thousands/s.
struct rate_controller_options {
  /// Hard cap in requests per second (`--rate`), never exceeded; none when unset.
  std::optional<double> max_rate;
  /// The rate after a throttle, as a fraction of the measured rate before it.
  double beta = 0.7;
  /// Seconds the cubic curve takes to grow back from beta x W_max to W_max.
  double recovery_seconds = 2.0;
  /// Requests per second at the start, before any answer.
  double initial_rate = 20.0;
  /// Requests per second added by each successful answer until the first throttle (the
  /// rate doubles every ln 2 / gain seconds while the run uses it).
  double slow_start_gain = 28.0;
  /// The rate never goes below this (requests per second).
  double min_rate = 0.5;
  /// Requests that may start back to back once tokens have accumulated, at least 1...
  double burst = 1.0;
  /// ... or as many as the rate allows in this many seconds, when more.
  double burst_seconds = 0.005;
};

/// Paces requests to the rate the server sustains. Not thread-safe.
class rate_controller {
 public:
  using clock = std::chrono::steady_clock;
  /// Throttles less than this after a cut do not cut again (they are counted).
  static constexpr clock::duration min_cut_interval = std::chrono::milliseconds(10);
  /// A throttle less than this after the previous cut belongs to the same episode: the
  /// limit is estimated from the successes since the episode's first throttle.
  static constexpr clock::duration episode_span = std::chrono::seconds(1);
  /// The longest wait during the slow start.
  static constexpr clock::duration slow_start_poll = std::chrono::milliseconds(5);
  /// The absolute cubic (requests/s per s^3) the rate grows along at least, past W_max.
  static constexpr double absolute_cubic_c = 0.4;

  /// Throws std::invalid_argument for a non-positive `max_rate` or bad tunables.
  explicit rate_controller(rate_controller_options options = {});

  /// Either "start the request now" (a token is taken) or how long to wait before asking
  /// again. Before the first throttle the slow start paces requests too (see above); its
  /// waits are at most `slow_start_poll`, as the rate grows meanwhile.
  struct decision {
    bool granted = false;     ///< a request may start now
    clock::duration wait{};   ///< when not granted: how long to wait before asking again
  };
  /// Asks to start one request at `now`; when granted, a token is consumed.
  decision try_acquire(clock::time_point now);

  /// The server answered successfully a request (any answer that was not a throttle).
  void on_success(clock::time_point now);
  /// The server throttled (429 / RESOURCE_EXHAUSTED) a request started at `sent`.
  /// `retry_after`: the server's Retry-After (or a hint such as Velt's "Try again after
  /// N minutes", see `parse_try_again_after`); every request then waits until
  /// now + retry_after. Returns true when this cut the rate.
  bool on_throttled(clock::time_point now, clock::time_point sent,
                    std::optional<clock::duration> retry_after = std::nullopt);

  /// What the controller knows, for logs and the progress line.
  struct snapshot {
    std::optional<double> rate;            ///< current fill rate/s; unset: not paced yet
                                           ///< (slow start, no hard cap)
    double max_rate_before_cut = 0;        ///< W_max: measured rate at the last cut
    double measured_success_rate = 0;      ///< smoothed successful answers/s
    std::uint64_t throttle_events = 0;     ///< throttling answers seen
    std::uint64_t cuts = 0;                ///< rate cuts (at most one per reaction time)
    std::optional<clock::time_point> paused_until;  ///< set while a Retry-After pauses
  };
  /// The current state, `now` being used for the measured rate and the pause.
  snapshot stats(clock::time_point now) const;

 private:
  double cubic_rate(clock::time_point now) const;
  double effective_rate() const;
  double burst() const;
  void set_rate(double r);
  void refill(clock::time_point now);

  rate_controller_options opt_;
  double c_;                           // cubic scale, relative to W_max
  double k_;                           // seconds from a cut back to W_max
  bool enabled_ = false;               // after the first throttle: CUBIC; before: slow start
  double fill_rate_ = 0;               // the bucket's rate (slow start or CUBIC)
  double w_max_ = 0;
  double tokens_ = 1;
  std::optional<clock::time_point> last_refill_;
  std::optional<clock::time_point> last_cut_;
  clock::time_point cubic_origin_{};   // the cut, or the end of its pause
  clock::time_point paused_until_{};
  bool cut_had_pause_ = false;         // the last cut came with a Retry-After
  std::uint64_t successes_since_cut_ = 0;
  clock::time_point episode_start_{};  // the first throttle of the current episode
  std::uint64_t episode_successes_ = 0;
  bool rate_bound_ = false;            // a request had to wait since the last success
  std::optional<clock::time_point> last_bound_;  // ... the last time one did
  std::uint64_t throttle_events_ = 0;
  std::uint64_t cuts_ = 0;
  rate_meter successes_;
  rate_meter answers_;
};

/// Parses Velt's throttling message, e.g. "Rate limit exceeded. Try again after 1 minute."
/// into a delay: "Try again after N minute(s)|second(s)|hour(s)", case-insensitive.
/// Unset when the message has no such phrase.
std::optional<std::chrono::seconds> parse_try_again_after(std::string_view message);

}  // namespace velt::detail
