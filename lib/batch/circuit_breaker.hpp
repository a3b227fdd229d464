// SPDX-License-Identifier: BSL-1.0
// circuit_breaker.hpp: a run-wide circuit breaker for outages (502/503/504, refused or
// reset connections, timeouts; the caller classifies). Sans-I/O: the caller passes the
// time; no clock, no threads (the caller serializes calls).
//
// closed: requests start freely. After `consecutive_failures` outage failures in a row, or
// an outage share of at least `failure_ratio` among at least `min_answers` answers in the
// last `window`, it opens. open: no new request starts, except one probe at a time after a
// backoff (`initial_backoff`, doubling after each failed probe, at most `max_backoff`);
// while the probe is in flight the state is half_open. Any success closes it and the run
// resumes at full speed. While open nothing fails: requests wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace velt::detail {

/// Tunables of a `circuit_breaker`.
struct circuit_breaker_options {
  /// Outage failures in a row that open the breaker.
  std::size_t consecutive_failures = 5;
  /// Outage share of recent answers that opens the breaker...
  double failure_ratio = 0.5;
  /// ...when there were at least this many answers...
  std::size_t min_answers = 20;
  /// ...in this sliding window.
  std::chrono::steady_clock::duration window = std::chrono::seconds(5);
  /// Wait before the first probe after opening.
  std::chrono::steady_clock::duration initial_backoff = std::chrono::milliseconds(250);
  /// The backoff between probes doubles up to this. A probe is one request, so a short
  /// cap costs little and bounds the time from the upstream's return to full speed.
  std::chrono::steady_clock::duration max_backoff = std::chrono::milliseconds(500);
};

/// Pauses a run's new requests while the upstream is down. Not thread-safe.
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;

  /// The breaker's state.
  enum class state : unsigned char {
    closed,     ///< requests start freely
    open,       ///< the upstream is considered down; waiting for the next probe time
    half_open,  ///< open, and one probe request is in flight
  };

  /// What `try_acquire` allows.
  enum class verdict : unsigned char {
    granted,           ///< start a normal request
    granted_as_probe,  ///< start one request; it is the probe: report its outcome
    wait,              ///< start nothing; ask again after `decision::wait`
  };

  /// The answer of `try_acquire`.
  struct decision {
    verdict what = verdict::granted;  ///< granted, granted as probe or wait
    clock::duration wait{};           ///< with `verdict::wait`: when to ask again
    /// True when a request may start (normal or probe).
    bool granted() const noexcept { return what != verdict::wait; }
  };

  /// Throws std::invalid_argument for zero `consecutive_failures` or bad durations.
  explicit circuit_breaker(circuit_breaker_options options = {});

  /// Asks to start one request at `now`. A `granted_as_probe` request must be reported with
  /// `on_success` / `on_failure` (`probe` = true) or, if it ends without an answer to
  /// judge (cancelled, a failure unrelated to availability), handed back with `release`.
  decision try_acquire(clock::time_point now);

  /// A request (the probe when `probe`) was answered: the upstream is up; closes the
  /// breaker when open.
  void on_success(clock::time_point now, bool probe = false);
  /// A request (the probe when `probe`) failed. `outage`: the failure says the upstream
  /// is unavailable (502/503/504, refused or reset connection, timeout); other failures
  /// (4xx, a bad page) count as answers. Returns true when this opened the breaker.
  bool on_failure(clock::time_point now, bool outage, bool probe = false);
  /// The probe ended without an outcome to judge: another probe may start at once.
  void release(bool probe);

  /// The current state.
  state current() const noexcept { return state_; }
  /// When the breaker last opened; unset while closed.
  std::optional<clock::time_point> open_since() const noexcept;
  /// Total time spent open (including the current opening), e.g. "paused 3.2 s".
  clock::duration paused_for(clock::time_point now) const noexcept;
  /// How many times the breaker opened.
  std::uint64_t openings() const noexcept { return openings_; }
  /// Probes that failed during the current opening (0 while closed).
  std::uint64_t failed_probes() const noexcept { return failed_probes_; }

 private:
  void open(clock::time_point now);
  void record(clock::time_point now, bool outage);

  circuit_breaker_options opt_;
  state state_ = state::closed;
  std::size_t consecutive_ = 0;
  struct answer {
    clock::time_point at;
    bool outage;
  };
  std::deque<answer> recent_;
  std::size_t recent_outages_ = 0;
  clock::time_point opened_at_{};
  clock::time_point next_probe_{};
  clock::duration backoff_{};
  clock::duration paused_before_{};
  std::uint64_t openings_ = 0;
  std::uint64_t failed_probes_ = 0;
};

}  // namespace velt::detail
