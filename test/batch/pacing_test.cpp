// SPDX-License-Identifier: BSL-1.0
// The run-wide pacing of velt::batch (run_pacer): what each failure means for the run, the
// rate controller and the breaker together, the user backoff (no clock, no I/O).
#include "batch/pacing.hpp"

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include <vector>

namespace velt::test::batch {
namespace {

using namespace std::chrono_literals;
using velt::detail::classify_page_failure;
using velt::detail::page_failure;
using velt::detail::pacing_clock;
using velt::detail::run_pacer;

error_details answered(unsigned http, status s, std::string message = "x") {
  error_details e;
  e.http_status = http;
  e.status = s;
  e.code = make_error_code(s);
  e.message = std::move(message);
  e.delivery = delivery::answered;
  return e;
}

TEST(PageFailure, ThrottlingOutagesAndTheRest) {
  EXPECT_EQ(classify_page_failure(answered(429, status::resource_exhausted)), page_failure::throttled);
  EXPECT_EQ(classify_page_failure(answered(500, status::resource_exhausted)), page_failure::throttled);
  for (unsigned http : {502u, 503u, 504u}) {
    EXPECT_EQ(classify_page_failure(answered(http, status::unknown)), page_failure::outage) << http;
  }
  EXPECT_EQ(classify_page_failure(answered(200, status::unavailable)), page_failure::outage);
  EXPECT_EQ(classify_page_failure(answered(500, status::internal)), page_failure::transient);
  EXPECT_EQ(classify_page_failure(answered(409, status::aborted)), page_failure::transient);
  EXPECT_EQ(classify_page_failure(answered(403, status::permission_denied)), page_failure::final);
  EXPECT_EQ(classify_page_failure(answered(400, status::invalid_argument)), page_failure::final);

  // No answer: a refused or reset connection, a timeout.
  error_details refused = make_error_details(boost::asio::error::connection_refused, "refused");
  EXPECT_EQ(classify_page_failure(refused), page_failure::outage);
  error_details timeout = make_error_details(make_error_code(errc::deadline_exceeded), "timed out");
  EXPECT_EQ(classify_page_failure(timeout), page_failure::outage);
  error_details cancelled = make_error_details(boost::asio::error::operation_aborted, "cancelled");
  EXPECT_EQ(classify_page_failure(cancelled), page_failure::final);
}

// A proxy's refusal of the tunnel (lib/client/proxy.cpp builds these details): a 5xx from the
// proxy is an outage like an unreachable origin (the run waits), a 407 / 403 is final.
TEST(PageFailure, ProxyRefusalsOfTheTunnel) {
  auto from_proxy = [](errc code) {
    auto e = make_error_details(make_error_code(code), "proxy 127.0.0.1:3128 refused the tunnel");
    e.proxy = "127.0.0.1:3128";
    return e;
  };
  EXPECT_EQ(classify_page_failure(from_proxy(errc::proxy_unavailable)), page_failure::outage);
  EXPECT_EQ(classify_page_failure(from_proxy(errc::proxy_auth_required)), page_failure::final);
  EXPECT_EQ(classify_page_failure(from_proxy(errc::proxy_refused)), page_failure::final);
  auto down = make_error_details(boost::asio::error::connection_refused, "connect to proxy 127.0.0.1:3128");
  down.proxy = "127.0.0.1:3128";
  EXPECT_EQ(classify_page_failure(down), page_failure::outage);
}

TEST(PageFailure, TheServersWaitFromRetryAfterOrItsMessage) {
  auto e = answered(429, status::resource_exhausted, "Rate limit exceeded. Try again after 1 minute.");
  EXPECT_EQ(velt::detail::throttle_wait(e), pacing_clock::duration(60s));
  e.retry_after = std::chrono::seconds(3);
  EXPECT_EQ(velt::detail::throttle_wait(e), pacing_clock::duration(3s));  // the header first
  EXPECT_FALSE(velt::detail::throttle_wait(answered(429, status::resource_exhausted, "slow down")));
}

TEST(UserBackoff, FullJitterDoublingUpToFiveSeconds) {
  using velt::detail::user_backoff;
  EXPECT_EQ(user_backoff(1, 1.0), pacing_clock::duration(200ms));
  EXPECT_EQ(user_backoff(3, 1.0), pacing_clock::duration(800ms));
  EXPECT_EQ(user_backoff(30, 1.0), pacing_clock::duration(5s));
  EXPECT_EQ(user_backoff(5, 0.0), pacing_clock::duration::zero());
  EXPECT_EQ(user_backoff(2, 0.5), pacing_clock::duration(200ms));
}

TEST(RunPacer, SlowStartUntilThrottledThenPacedToTheRateFound) {
  run_pacer p(std::nullopt);
  auto t = pacing_clock::time_point{} + 1h;
  int first = 0, second = 0;  // grants in the first and the second 100 ms
  for (; t < pacing_clock::time_point{} + 1h + 200ms; t += 1ms) {
    auto d = p.try_acquire(t);
    if (!d.granted) continue;
    (t < pacing_clock::time_point{} + 1h + 100ms ? first : second) += 1;
    p.on_answer(t + 1ms, d.permit, true);
  }
  EXPECT_GT(second, 2 * first);  // the slow start grows the rate with each answer
  EXPECT_FALSE(p.stats(t).rate);  // no rate found yet
  auto d = p.try_acquire(t);
  for (; !d.granted; d = p.try_acquire(t += 1ms)) {}
  auto const c = p.on_throttled(t, d.permit, std::nullopt);
  EXPECT_TRUE(c.rate_cut);
  EXPECT_FALSE(c.rate_before);
  EXPECT_GT(c.rate_after, 10.0);
  ASSERT_TRUE(p.stats(t).rate);
  // From now on requests are spaced.
  int granted = 0;
  for (int i = 0; i < 100; ++i) {
    if (p.try_acquire(t).granted) ++granted;
  }
  EXPECT_LE(granted, 1);
  EXPECT_EQ(p.stats(t).paused, run_pacer::pause::none);
}

TEST(RunPacer, ARetryAfterPausesEveryRequestAndIsShown) {
  run_pacer p(std::nullopt);
  auto const t = pacing_clock::time_point{} + 1h;
  auto d = p.try_acquire(t);
  p.on_throttled(t, d.permit, pacing_clock::duration(2s));
  auto w = p.try_acquire(t + 500ms);
  EXPECT_FALSE(w.granted);
  EXPECT_EQ(w.wait, pacing_clock::duration(1500ms));
  auto const s = p.stats(t + 500ms);
  EXPECT_EQ(s.paused, run_pacer::pause::throttled);
  EXPECT_EQ(s.paused_for, pacing_clock::duration(500ms));
  EXPECT_TRUE(p.try_acquire(t + 2s).granted);
}

TEST(RunPacer, AnOutagePausesTheRunOneProbeAtATimeAndAnAnswerResumesIt) {
  run_pacer p(std::nullopt);
  auto t = pacing_clock::time_point{} + 1h;
  bool opened = false;
  pacing_clock::time_point opened_at{};
  for (int i = 0; i < 5; ++i, t += 50ms) {  // 50 ms: a token of the slow start's 20/s each
    auto d = p.try_acquire(t);
    ASSERT_TRUE(d.granted) << i;
    opened = p.on_outage(t, d.permit).breaker_opened;
    opened_at = t;
  }
  EXPECT_TRUE(opened);  // five outage answers in a row
  auto const waiting = p.try_acquire(t);
  EXPECT_FALSE(waiting.granted);
  EXPECT_LE(waiting.wait, pacing_clock::duration(250ms));  // waiters look again soon
  EXPECT_EQ(p.stats(t).paused, run_pacer::pause::outage);

  t += 1s;
  auto probe = p.try_acquire(t);
  ASSERT_TRUE(probe.granted);
  EXPECT_TRUE(probe.permit.probe);
  EXPECT_FALSE(p.try_acquire(t).granted);  // one probe at a time
  auto const c = p.on_answer(t + 10ms, probe.permit, true);
  EXPECT_TRUE(c.breaker_closed);
  EXPECT_EQ(c.paused_for, t + 10ms - opened_at);
  EXPECT_TRUE(p.try_acquire(t + 50ms).granted);  // the run's rate again (20/s here)
  EXPECT_EQ(p.stats(t + 50ms).paused, run_pacer::pause::none);
  EXPECT_EQ(p.stats(t + 50ms).outages, 1u);
}

TEST(RunPacer, AnAbandonedProbeLetsAnotherOneStart) {
  run_pacer p(std::nullopt);
  auto t = pacing_clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i, t += 50ms) {
    auto d = p.try_acquire(t);
    ASSERT_TRUE(d.granted) << i;
    p.on_outage(t, d.permit);
  }
  t += 1s;
  auto probe = p.try_acquire(t);
  ASSERT_TRUE(probe.permit.probe);
  p.on_abandoned(probe.permit);
  EXPECT_TRUE(p.try_acquire(t + 50ms).permit.probe);
}

TEST(RunPacer, TheHardCapHoldsWithoutAnyThrottle) {
  run_pacer p(20.0);  // one per 50 ms
  auto const t = pacing_clock::time_point{} + 1h;
  EXPECT_TRUE(p.try_acquire(t).granted);
  auto d = p.try_acquire(t);
  EXPECT_FALSE(d.granted);
  EXPECT_GT(d.wait, pacing_clock::duration(40ms));
  EXPECT_LE(d.wait, pacing_clock::duration(51ms));
  EXPECT_TRUE(p.try_acquire(t + 50ms).granted);
}

}  // namespace
}  // namespace velt::test::batch
