// SPDX-License-Identifier: BSL-1.0
// The run-wide pacing of velt::batch: AIMD window, rate limiter, pause (no clock).
#include "batch/pacing.hpp"

#include <gtest/gtest.h>

namespace velt::test::batch {
namespace {

using namespace std::chrono_literals;
using velt::detail::aimd_window;
using velt::detail::rate_limiter;
using velt::detail::request_throttle;
using clock_type = velt::detail::throttle_clock;

TEST(AimdWindow, HalvesOnThrottlingOncePerCooldown) {
  aimd_window w(64, 0.5, 1s);
  clock_type::time_point t{};
  EXPECT_EQ(w.limit(), 64u);
  EXPECT_TRUE(w.on_throttled(t));
  EXPECT_EQ(w.limit(), 32u);
  EXPECT_FALSE(w.on_throttled(t + 500ms));  // the same burst of 429s
  EXPECT_EQ(w.limit(), 32u);
  EXPECT_TRUE(w.on_throttled(t + 1500ms));
  EXPECT_EQ(w.limit(), 16u);
  for (int i = 0; i < 10; ++i) w.on_throttled(t + std::chrono::seconds(2 + i));
  EXPECT_EQ(w.limit(), 1u);  // never below one
}

TEST(AimdWindow, RecoversAdditively) {
  aimd_window w(64, 0.5, 1s);
  w.on_throttled(clock_type::time_point{});
  ASSERT_EQ(w.limit(), 32u);
  for (int i = 0; i < 32; ++i) w.on_success();  // one window of successes: about +1
  EXPECT_NEAR(w.value(), 33.0, 0.1);
  for (int i = 0; i < 5000; ++i) w.on_success();
  EXPECT_EQ(w.limit(), 64u);  // back to the maximum, not beyond
  EXPECT_DOUBLE_EQ(w.value(), 64.0);
}

TEST(RateLimiter, SpacesRequestsEvenly) {
  rate_limiter r(10);  // one per 100 ms
  clock_type::time_point t{};
  t += 1h;
  EXPECT_EQ(r.wait_time(t), clock_type::duration::zero());
  r.take(t);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(r.wait_time(t)).count(), 100);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(r.wait_time(t + 60ms)).count(), 40);
  EXPECT_EQ(r.wait_time(t + 100ms), clock_type::duration::zero());
  r.take(t + 100ms);
  r.take(t + 10s);  // idle time does not bank a burst
  EXPECT_GT(r.wait_time(t + 10s), clock_type::duration::zero());
  EXPECT_THROW(rate_limiter(0), std::invalid_argument);
}

TEST(RequestThrottle, WindowLimitsRequestsInFlight) {
  request_throttle th(3, std::nullopt);
  auto const now = clock_type::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(th.try_acquire(now).granted);
  auto d = th.try_acquire(now);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.wait, request_throttle::poll_interval);
  th.release(true);
  EXPECT_TRUE(th.try_acquire(now).granted);
  EXPECT_EQ(th.stats().in_flight, 3u);
}

TEST(RequestThrottle, ThrottlingPausesEveryoneAndHalves) {
  request_throttle th(8, std::nullopt);
  auto const now = clock_type::now();
  EXPECT_TRUE(th.on_throttled(now, 2s));
  EXPECT_EQ(th.stats().limit, 4u);
  auto d = th.try_acquire(now + 500ms);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(d.wait).count(), 1500);
  EXPECT_FALSE(th.on_throttled(now + 100ms, 1s));  // same burst: pause kept, no second halving
  EXPECT_EQ(th.stats().limit, 4u);
  EXPECT_EQ(th.stats().throttle_events, 2u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(th.try_acquire(now + 2s).granted);
  EXPECT_FALSE(th.try_acquire(now + 2s).granted);  // the halved window
}

TEST(RequestThrottle, RateCapsStarts) {
  request_throttle th(100, 20.0);  // 20/s: one per 50 ms
  auto const now = clock_type::now();
  EXPECT_TRUE(th.try_acquire(now).granted);
  auto d = th.try_acquire(now);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(d.wait).count(), 50);
  EXPECT_TRUE(th.try_acquire(now + 50ms).granted);
}

}  // namespace
}  // namespace velt::test::batch
