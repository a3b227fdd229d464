// SPDX-License-Identifier: BSL-1.0
// The run-wide circuit breaker of velt::batch (no clock): opening on outages, one probe at
// a time with exponential backoff, closing on the first answer, the time paused.
#include "batch/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace velt::test::batch {
namespace {

using namespace std::chrono_literals;
using velt::detail::circuit_breaker;
using velt::detail::circuit_breaker_options;
using state = circuit_breaker::state;
using verdict = circuit_breaker::verdict;
using clock_type = std::chrono::steady_clock;

constexpr clock_type::time_point start = clock_type::time_point{} + 1h;

TEST(CircuitBreaker, OpensAfterConsecutiveOutageFailures) {
  circuit_breaker cb;  // 5 in a row
  auto t = start;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(cb.on_failure(t, true));
  cb.on_success(t);  // the streak is broken
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(cb.on_failure(t, true));
  EXPECT_FALSE(cb.on_failure(t, false));  // a 4xx is an answer: breaks it too
  EXPECT_EQ(cb.current(), state::closed);
  EXPECT_FALSE(cb.open_since().has_value());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(cb.on_failure(t, true));
  EXPECT_TRUE(cb.on_failure(t + 1ms, true));
  EXPECT_EQ(cb.current(), state::open);
  EXPECT_EQ(cb.open_since(), t + 1ms);
  EXPECT_EQ(cb.openings(), 1u);
}

TEST(CircuitBreaker, OpensOnAnOutageShareOverTheWindow) {
  circuit_breaker_options o;
  o.consecutive_failures = 100;  // only the ratio
  o.min_answers = 20;
  o.failure_ratio = 0.5;
  o.window = 5s;
  circuit_breaker cb(o);
  auto t = start;
  // Alternating answers: 50 % outages once 20 answers are in.
  bool opened = false;
  int answers = 0;
  while (!opened && answers < 100) {
    cb.on_success(t);
    ++answers;
    opened = cb.on_failure(t, true);
    ++answers;
    t += 10ms;
  }
  EXPECT_TRUE(opened);
  EXPECT_EQ(answers, 20);
  // Old answers leave the window: one failure a second never has 20 answers in 5 s.
  circuit_breaker slow(o);
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(slow.on_failure(start + std::chrono::seconds(i), true));
  EXPECT_EQ(slow.current(), state::closed);
}

TEST(CircuitBreaker, OneProbeAtATimeWithExponentialBackoff) {
  circuit_breaker_options o;
  o.initial_backoff = 250ms;
  o.max_backoff = 1s;
  EXPECT_EQ(circuit_breaker_options{}.max_backoff, 500ms);
  circuit_breaker cb(o);
  auto t = start;
  for (int i = 0; i < 5; ++i) cb.on_failure(t, true);
  ASSERT_EQ(cb.current(), state::open);
  auto d = cb.try_acquire(t + 100ms);
  EXPECT_EQ(d.what, verdict::wait);
  EXPECT_FALSE(d.granted());
  EXPECT_EQ(d.wait, 150ms);
  d = cb.try_acquire(t + 250ms);
  EXPECT_EQ(d.what, verdict::granted_as_probe);
  EXPECT_EQ(cb.current(), state::half_open);
  EXPECT_EQ(cb.try_acquire(t + 260ms).what, verdict::wait);  // the probe is in flight
  // Failed probes: 500 ms, 1 s, then capped at 1 s.
  auto expect_next_probe = [&](clock_type::time_point failed_at, clock_type::duration backoff) {
    cb.on_failure(failed_at, true, /*probe=*/true);
    EXPECT_EQ(cb.current(), state::open);
    EXPECT_EQ(cb.try_acquire(failed_at + backoff - 1ms).what, verdict::wait);
    EXPECT_EQ(cb.try_acquire(failed_at + backoff).what, verdict::granted_as_probe);
  };
  expect_next_probe(t + 300ms, 500ms);
  expect_next_probe(t + 900ms, 1s);
  expect_next_probe(t + 2s, 1s);
  EXPECT_EQ(cb.failed_probes(), 3u);
  // Failures of requests started before it opened do not move the probe schedule.
  EXPECT_FALSE(cb.on_failure(t + 3s, true));
  EXPECT_EQ(cb.current(), state::half_open);
}

TEST(CircuitBreaker, ASuccessfulProbeClosesAndTheRunResumesAtFullSpeed) {
  circuit_breaker cb;
  auto t = start;
  for (int i = 0; i < 5; ++i) cb.on_failure(t, true);
  auto const d = cb.try_acquire(t + 250ms);
  ASSERT_EQ(d.what, verdict::granted_as_probe);
  cb.on_success(t + 300ms, /*probe=*/true);
  EXPECT_EQ(cb.current(), state::closed);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cb.try_acquire(t + 300ms).what, verdict::granted);
  // The failures before opening are forgotten: four more do not reopen it.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(cb.on_failure(t + 400ms, true));
  EXPECT_EQ(cb.current(), state::closed);
}

TEST(CircuitBreaker, AProbeAnsweredWithAnErrorStillCloses) {
  circuit_breaker cb;
  for (int i = 0; i < 5; ++i) cb.on_failure(start, true);
  ASSERT_EQ(cb.try_acquire(start + 1s).what, verdict::granted_as_probe);
  cb.on_failure(start + 1s, /*outage=*/false, /*probe=*/true);  // e.g. a 404: the server is up
  EXPECT_EQ(cb.current(), state::closed);
}

TEST(CircuitBreaker, ReleasedProbeLetsAnotherProbeStart) {
  circuit_breaker cb;
  for (int i = 0; i < 5; ++i) cb.on_failure(start, true);
  ASSERT_EQ(cb.try_acquire(start + 1s).what, verdict::granted_as_probe);
  cb.release(/*probe=*/true);  // cancelled without an answer
  EXPECT_EQ(cb.current(), state::open);
  EXPECT_EQ(cb.try_acquire(start + 1s).what, verdict::granted_as_probe);
}

TEST(CircuitBreaker, CountsTheTimePaused) {
  circuit_breaker cb;
  EXPECT_EQ(cb.paused_for(start), clock_type::duration::zero());
  for (int i = 0; i < 5; ++i) cb.on_failure(start, true);
  EXPECT_EQ(cb.paused_for(start + 3200ms), 3200ms);  // "paused 3.2 s: upstream unavailable"
  ASSERT_TRUE(cb.try_acquire(start + 4s).granted());
  cb.on_success(start + 4s, true);
  EXPECT_EQ(cb.paused_for(start + 10s), 4s);  // closed: the total stays
  for (int i = 0; i < 5; ++i) cb.on_failure(start + 20s, true);
  EXPECT_EQ(cb.paused_for(start + 21s), 5s);
  EXPECT_EQ(cb.openings(), 2u);
}

TEST(CircuitBreaker, SimulatedOutageResumesSoonAfterTheUpstreamReturns) {
  // 8 workers, 5 ms per answer; the upstream is down from 1 s to 5 s.
  circuit_breaker cb;
  auto const down_from = start + 1s, down_to = start + 5s;
  auto up = [&](clock_type::time_point t) { return t < down_from || t >= down_to; };
  int requests_while_down = 0;
  std::optional<clock_type::time_point> closed_at;
  std::vector<clock_type::time_point> next(8, start);
  for (auto t = start; t < start + 12s; t += 1ms) {
    for (auto& w : next) {
      if (w > t) continue;
      auto const d = cb.try_acquire(t);
      if (!d.granted()) {
        w = t + std::max<clock_type::duration>(d.wait, 1ms);
        continue;
      }
      bool const probe = d.what == verdict::granted_as_probe;
      if (!up(t)) ++requests_while_down;
      if (up(t))
        cb.on_success(t + 5ms, probe);
      else
        cb.on_failure(t + 5ms, true, probe);
      if (!closed_at && t >= down_to && cb.current() == state::closed) closed_at = t + 5ms;
      w = t + 5ms;
    }
  }
  ASSERT_TRUE(closed_at.has_value());
  auto const resumed_after = *closed_at - down_to;
  std::printf("[ sim      ] outage 1-5 s: %d requests sent while down (vs ~6400 unpaced), closed "
              "%.0f ms after the upstream returned, paused %.2f s\n",
              requests_while_down, std::chrono::duration<double, std::milli>(resumed_after).count(),
              std::chrono::duration<double>(cb.paused_for(start + 12s)).count());
  EXPECT_LE(resumed_after, 2s + 10ms);  // at most one capped backoff
  EXPECT_LT(requests_while_down, 40);
  EXPECT_EQ(cb.current(), state::closed);
}

}  // namespace
}  // namespace velt::test::batch
