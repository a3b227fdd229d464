// SPDX-License-Identifier: BSL-1.0
// pacing.hpp: the run-wide pacing of a batch run, shared by every user of the run.
//
// Two sans-I/O units decide (the caller passes the time):
// - `rate_controller` (rate_controller.hpp): no limit until the server throttles; then a
//   token bucket whose rate follows CUBIC, honouring Retry-After and Velt's "Try again
//   after N minutes"; `--rate` is its hard cap.
// - `circuit_breaker` (circuit_breaker.hpp): while the upstream is down (502/503/504,
//   refused or reset connections, timeouts) no new request starts but one probe at a time.
// `run_pacer` puts them together behind one mutex and classifies each failed page request
// (`page_failure`), so that a run waits out throttling and outages instead of failing users.
#pragma once

#include "batch/circuit_breaker.hpp"
#include "batch/rate_controller.hpp"

#include <velt/error.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace velt::detail {

using pacing_clock = std::chrono::steady_clock;

/// What a failed page request means for the run.
enum class page_failure : unsigned char {
  throttled,  ///< 429 / RESOURCE_EXHAUSTED: slow the run down, ask again (never a failure)
  outage,     ///< 502/503/504, UNAVAILABLE, no answer: the upstream may be down; ask again
  transient,  ///< another retryable answer (500, ABORTED, ...): ask again a few times
  final,      ///< anything else: the user's failure (or a credential question)
};

/// Classifies a failure of a page request (the client made one attempt).
page_failure classify_page_failure(error_details const& e) noexcept;

/// The server's wait for a throttled request: its Retry-After, else the "Try again after N
/// minute(s)" of Velt's message; none when it said neither.
std::optional<pacing_clock::duration> throttle_wait(error_details const& e);

/// The backoff of a user before asking again after its `n`-th failure in a row of the same
/// page (full jitter, `u01` uniform in [0, 1]): up to 200 ms x 2^(n-1), at most 5 s.
pacing_clock::duration user_backoff(unsigned n, double u01) noexcept;

/// One request allowed by the pacer; report its end with exactly one of the on_* calls.
struct pacer_permit {
  pacing_clock::time_point sent{};
  bool probe = false;  ///< the breaker's probe: its outcome closes or keeps the breaker open
};

/// The rate controller and the breaker of one run. Thread-safe.
class run_pacer {
 public:
  /// `max_rate`: requests per second, never exceeded (none when unset).
  explicit run_pacer(std::optional<double> max_rate, circuit_breaker_options breaker = {});

  /// Either a permit or how long to wait before asking again.
  struct decision {
    bool granted = false;
    pacer_permit permit{};
    pacing_clock::duration wait{};
  };
  decision try_acquire(pacing_clock::time_point now);

  /// What a report changed, for the run's callbacks and logs.
  struct change {
    bool rate_cut = false;            ///< a throttle cut the request rate
    std::optional<double> rate_before;  ///< requests/s before the cut (none: unlimited)
    double rate_after = 0;            ///< ... and after
    bool breaker_opened = false;      ///< an outage paused the run
    bool breaker_closed = false;      ///< the upstream answered again: the run resumes
    pacing_clock::duration paused_for{};  ///< with breaker_closed: how long the pause lasted
  };
  /// The server answered (a page, or an answer that says nothing about availability).
  change on_answer(pacing_clock::time_point now, pacer_permit const& p, bool success);
  /// The server throttled the request; `wait` as from `throttle_wait`.
  change on_throttled(pacing_clock::time_point now, pacer_permit const& p,
                      std::optional<pacing_clock::duration> wait);
  /// The request failed as an outage does.
  change on_outage(pacing_clock::time_point now, pacer_permit const& p);
  /// The request ended without an outcome to judge (cancelled).
  void on_abandoned(pacer_permit const& p);

  /// Why new requests wait now, if they do.
  enum class pause : unsigned char { none, throttled, outage };
  struct snapshot {
    std::optional<double> rate;  ///< the request rate the run holds to; none: unlimited
    std::uint64_t throttle_events = 0;
    std::uint64_t outages = 0;   ///< times the breaker opened
    pause paused = pause::none;
    pacing_clock::duration paused_for{};  ///< how long the current pause has lasted
  };
  snapshot stats(pacing_clock::time_point now) const;

 private:
  change close_if_reopened(pacing_clock::time_point now, bool was_open);

  mutable std::mutex mutex_;
  rate_controller rate_;
  circuit_breaker breaker_;
  std::optional<pacing_clock::time_point> throttle_pause_since_;
  pacing_clock::time_point last_open_{};
};

}  // namespace velt::detail
