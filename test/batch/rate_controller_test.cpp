// SPDX-License-Identifier: BSL-1.0
// The adaptive rate controller of velt::batch (no clock): unit behaviour, the parsing of
// Velt's "Try again after N minutes", and a simulated rate-limited server.
#include "batch/rate_controller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <queue>
#include <vector>

namespace velt::test::batch {
namespace {

using namespace std::chrono_literals;
using velt::detail::parse_try_again_after;
using velt::detail::rate_controller;
using velt::detail::rate_controller_options;
using velt::detail::rate_meter;
using clock_type = std::chrono::steady_clock;

constexpr clock_type::time_point start = clock_type::time_point{} + 1h;

double secs(clock_type::duration d) { return std::chrono::duration<double>(d).count(); }

rate_controller_options starting_at(double initial_rate) {
  rate_controller_options o;
  o.initial_rate = initial_rate;
  return o;
}

TEST(RateController, TheSlowStartGrowsTheRateWithEachAnswerWhileTheRateHoldsRequestsBack) {
  rate_controller rc;  // 20/s at first, +28/s per success while requests wait for tokens
  auto t = start;
  EXPECT_TRUE(rc.try_acquire(t).granted);
  auto d = rc.try_acquire(t);
  EXPECT_FALSE(d.granted);
  EXPECT_LE(d.wait, rate_controller::slow_start_poll);  // the rate grows meanwhile: look again soon
  EXPECT_FALSE(rc.stats(t).rate.has_value());  // not paced to a found rate yet
  // Answers while requests were held back: each one adds 28/s.
  rc.on_success(t += 3ms);
  rc.try_acquire(t);
  rc.on_success(t += 1ms);
  // 20 + 2 x 28 = 76/s: the next token comes in about 1/76 s.
  for (auto d2 = rc.try_acquire(t); d2.granted; d2 = rc.try_acquire(t)) {}
  auto const spaced = rc.try_acquire(t + 1ms);
  EXPECT_FALSE(spaced.granted);
  t += 20ms;
  EXPECT_TRUE(rc.try_acquire(t).granted);
  // Answers while nothing waited do not grow it: a run held back by something else must
  // not inflate its rate.
  rate_controller idle;
  for (int i = 0; i < 1000; ++i) idle.on_success(start + i * 1ms);
  EXPECT_TRUE(idle.try_acquire(start + 1s).granted);
  EXPECT_FALSE(idle.try_acquire(start + 1s).granted);  // still 20/s: one token, then a wait
}

TEST(RateController, AnUnlimitedServerIsReachedInAFewHundredMilliseconds) {
  // Requests answered in 2 ms, up to 64 in flight, no limit: the rate doubles about every
  // 25 ms while it holds requests back, from 20/s to over 10 000/s within half a second.
  rate_controller rc;
  auto t = start;
  std::deque<clock_type::time_point> flying;
  long answered = 0, in_last_100ms = 0;
  for (; t < start + 600ms; t += 100us) {
    while (!flying.empty() && flying.front() + 2ms <= t) {
      rc.on_success(t);
      flying.pop_front();
      ++answered;
      if (t >= start + 500ms) ++in_last_100ms;
    }
    while (flying.size() < 64 && rc.try_acquire(t).granted) flying.push_back(t);
  }
  EXPECT_GT(in_last_100ms, 1500);  // > 15 000 answers/s (64 in flight / 2 ms = 32 000/s)
  EXPECT_FALSE(rc.stats(t).rate.has_value());
}

TEST(RateController, CutsToBetaOfTheMeasuredSuccessRate) {
  rate_controller rc(starting_at(1000));  // never held back below
  auto t = start;
  for (int i = 0; i < 200; ++i, t += 10ms) {  // 100 successes/s for 2 s
    ASSERT_TRUE(rc.try_acquire(t).granted);
    rc.on_success(t);
  }
  EXPECT_TRUE(rc.on_throttled(t, t));
  auto const s = rc.stats(t);
  ASSERT_TRUE(s.rate.has_value());
  EXPECT_NEAR(s.max_rate_before_cut, 100.0, 5.0);
  EXPECT_NEAR(*s.rate, 70.0, 4.0);
  EXPECT_EQ(s.throttle_events, 1u);
  EXPECT_EQ(s.cuts, 1u);
  // Requests are now spaced by 1/rate.
  EXPECT_TRUE(rc.try_acquire(t).granted);
  auto const d = rc.try_acquire(t);
  EXPECT_FALSE(d.granted);
  EXPECT_NEAR(secs(d.wait), 1.0 / *s.rate, 0.002);
}

TEST(RateController, ThrottlesBeforeAnySuccessDoNotDropTheRateToTheMinimum) {
  rate_controller rc;
  auto t = start;
  ASSERT_TRUE(rc.try_acquire(t).granted);
  for (int i = 0; i < 3; ++i) rc.on_throttled(t += 1ms, start);  // the run's first answers
  auto const s = rc.stats(t);
  ASSERT_TRUE(s.rate.has_value());
  EXPECT_EQ(s.cuts, 1u);
  // A step below what the run sent (one answer in the first 10 ms: 100/s), not the minimum
  // of 0.5/s, from where the cubic (scaled by W_max) would take long to climb back.
  EXPECT_GE(*s.rate, 10.0);
  EXPECT_LE(*s.rate, 70.0);
}

TEST(RateController, RefusedAgainAfterACutCutsToWhatTheServerLetThroughSinceTheEpisodeBegan) {
  rate_controller rc(starting_at(1000));
  auto t = start;
  for (int i = 0; i < 500; ++i, t += 1ms) rc.on_success(t);  // 1000/s, of which the server's burst
  ASSERT_TRUE(rc.on_throttled(t, t));
  EXPECT_GT(*rc.stats(t).rate, 500.0);  // 0.7 x 1000: far above the real limit of 50/s
  auto const episode = t;
  // 50 ms later: 2 successes since the first throttle (50/s), and a request sent after
  // the cut refused again.
  rc.on_success(t + 20ms);
  rc.on_success(t + 40ms);
  t += 50ms;
  ASSERT_TRUE(rc.on_throttled(t, episode + 1ms));
  auto const s = rc.stats(t);
  EXPECT_NEAR(s.max_rate_before_cut, 40.0, 1.0);  // 2 / 50 ms
  EXPECT_NEAR(*s.rate, 28.0, 1.0);
}

TEST(RateController, CutsOncePerReactionTimeAndMeasurement) {
  rate_controller rc;
  auto t = start;
  for (int i = 0; i < 100; ++i, t += 10ms) rc.on_success(t);
  auto const sent_before = t - 5ms;
  EXPECT_TRUE(rc.on_throttled(t, sent_before));
  // Other requests sent before the cut, refused too: the same event.
  EXPECT_FALSE(rc.on_throttled(t + 1ms, sent_before));
  EXPECT_FALSE(rc.on_throttled(t + 2ms, t - 1ms));
  EXPECT_EQ(rc.stats(t).cuts, 1u);
  EXPECT_EQ(rc.stats(t).throttle_events, 3u);
  // Sent after the cut but refused before the cut could be measured: counted, no cut.
  EXPECT_FALSE(rc.on_throttled(t + 5ms, t + 3ms));
  EXPECT_EQ(rc.stats(t).cuts, 1u);
  // Sent after the cut and refused once it could be measured: the cut was not enough.
  EXPECT_TRUE(rc.on_throttled(t + rate_controller::min_cut_interval, t + 3ms));
  EXPECT_EQ(rc.stats(t).cuts, 2u);
}

TEST(RateController, GrowsBackAlongTheCubicAndProbesPast) {
  rate_controller_options o;
  o.recovery_seconds = 2.0;
  rate_controller rc(o);
  auto t = start;
  for (int i = 0; i < 100; ++i, t += 10ms) rc.on_success(t);
  rc.on_throttled(t, t);
  double const w_max = rc.stats(t).max_rate_before_cut;
  // Feed successes at the allowed rate; after K = 2 s the rate is back at W_max...
  auto const cut = t;
  std::vector<std::pair<double, double>> seen;  // (seconds since cut, rate)
  while (t < cut + 6s) {
    if (rc.try_acquire(t).granted) rc.on_success(t);
    seen.emplace_back(secs(t - cut), *rc.stats(t).rate);
    t += 1ms;
  }
  auto at = [&](double s) {
    return std::find_if(seen.begin(), seen.end(), [&](auto const& p) { return p.first >= s; })->second;
  };
  EXPECT_LT(at(1.0), w_max * 0.97);          // concave: still below W_max
  EXPECT_GT(at(1.0), w_max * 0.9);           // but most of the way back
  EXPECT_NEAR(at(2.0), w_max, w_max * 0.02);
  EXPECT_GT(at(4.0), w_max * 1.25);          // ...then probes past it
  EXPECT_GT(at(5.5), at(4.0));
}

TEST(RateController, RetryAfterPausesEveryRequest) {
  rate_controller rc;
  auto t = start;
  for (int i = 0; i < 100; ++i, t += 10ms) rc.on_success(t);
  rc.on_throttled(t, t, 2s);
  auto const s = rc.stats(t);
  ASSERT_TRUE(s.paused_until.has_value());
  EXPECT_EQ(*s.paused_until, t + 2s);
  for (int i = 0; i < 5; ++i) {
    auto const d = rc.try_acquire(t + 500ms);
    EXPECT_FALSE(d.granted);
    EXPECT_EQ(d.wait, 1500ms);
  }
  // A later, shorter Retry-After does not shorten the pause.
  rc.on_throttled(t + 100ms, t, 1s);
  EXPECT_EQ(*rc.stats(t + 100ms).paused_until, t + 2s);
  EXPECT_TRUE(rc.try_acquire(t + 2s).granted);
  EXPECT_FALSE(rc.stats(t + 2s).paused_until.has_value());
}

TEST(RateController, HardCapHoldsBeforeAndAfterThrottles) {
  rate_controller_options o;
  o.max_rate = 50;
  rate_controller rc(o);
  auto t = start;
  int granted = 0;
  for (; t < start + 2s; t += 1ms)
    if (rc.try_acquire(t).granted) {
      ++granted;
      rc.on_success(t);
    }
  EXPECT_LE(granted, 101);  // 50/s for 2 s, plus the first token
  EXPECT_GE(granted, 97);   // (the slow start begins at 20/s)
  rc.on_throttled(t, t);
  for (int i = 0; i < 20000; ++i, t += 1ms) rc.on_success(t);  // cubic runs away in time
  EXPECT_LE(*rc.stats(t).rate, 50.0);
  EXPECT_THROW(rate_controller(rate_controller_options{.max_rate = 0.0}), std::invalid_argument);
}

TEST(RateController, QuotaEstimateSpansThePause) {
  // A 600-per-minute quota: 600 requests go through fast, then "Try again after 1 minute".
  rate_controller rc;
  auto t = start;
  for (int i = 0; i < 600; ++i, t += 2ms) rc.on_success(t);
  rc.on_throttled(t, t, 60s);
  t += 60s;
  auto const cut1 = *rc.stats(t).rate;
  for (int i = 0; i < 600;) {
    auto const d = rc.try_acquire(t);
    if (d.granted) {
      rc.on_success(t);
      ++i;
    } else {
      t += d.wait;
    }
  }
  rc.on_throttled(t, t, 60s);
  // The second cut is from 600 successes over the minute and more since the first cut.
  EXPECT_LT(*rc.stats(t).rate, 10.0);
  EXPECT_LT(*rc.stats(t).rate, cut1);
}

TEST(RateMeter, RatesOverTheLastSecond) {
  rate_meter m;
  EXPECT_EQ(m.rate(start), 0.0);
  auto t = start;
  for (int i = 0; i < 300; ++i, t += 10ms) m.record(t);  // 100/s for 3 s
  EXPECT_NEAR(m.rate(t), 100.0, 5.0);
  EXPECT_NEAR(m.rate(t + 500ms), 50.0, 10.0);  // half the window silent
  EXPECT_EQ(m.rate(t + 5s), 0.0);
}

TEST(TryAgainAfter, ParsesVeltsMessage) {
  EXPECT_EQ(parse_try_again_after("Rate limit exceeded. Try again after 1 minute."), 60s);
  EXPECT_EQ(parse_try_again_after("Try again after 2 minutes"), 120s);
  EXPECT_EQ(parse_try_again_after("try AGAIN after 30 seconds"), 30s);
  EXPECT_EQ(parse_try_again_after("Try again after 1 second"), 1s);
  EXPECT_EQ(parse_try_again_after("TRY AGAIN AFTER 5 MINUTES"), 300s);
  EXPECT_EQ(parse_try_again_after("Try again after 1 hour"), 3600s);
}

TEST(TryAgainAfter, AbsentOrMalformed) {
  EXPECT_FALSE(parse_try_again_after("Rate limit exceeded."));
  EXPECT_FALSE(parse_try_again_after(""));
  EXPECT_FALSE(parse_try_again_after("Try again after a minute"));
  EXPECT_FALSE(parse_try_again_after("Try again after 5"));
  EXPECT_FALSE(parse_try_again_after("Try again after 5 fortnights"));
}

// ---- Simulation: workers, a fixed latency, a server with a token-bucket limit. ----

struct server_bucket {
  double rate;
  double burst;
  double tokens;
  clock_type::time_point last;
  bool admit(clock_type::time_point now) {
    tokens = std::min(burst, tokens + rate * secs(now - last));
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

struct sim_result {
  static std::size_t slot(double s) { return static_cast<std::size_t>(std::lround(s * 10)); }
  std::vector<int> ok_per_100ms;       // successes answered per 100 ms
  std::vector<int> refused_per_100ms;  // throttling answers per 100 ms
  double goodput(double from_s, double to_s) const {
    int n = 0;
    for (auto i = slot(from_s); i < slot(to_s); ++i)
      n += ok_per_100ms.at(i);
    return n / (to_s - from_s);
  }
  double refused_share(double from_s, double to_s) const {
    int ok = 0, bad = 0;
    for (auto i = slot(from_s); i < slot(to_s); ++i) {
      ok += ok_per_100ms.at(i);
      bad += refused_per_100ms.at(i);
    }
    return ok + bad == 0 ? 0 : static_cast<double>(bad) / (ok + bad);
  }
  /// First time t (0.1 s steps) from which every 2 s window until `end` has a goodput
  /// of at least `target`.
  double converged_at(double target, double end) const {
    double t = end - 2;
    while (t - 0.1 >= 0 && goodput(t - 0.1, t + 1.9) >= target) t -= 0.1;
    return t;
  }
};

/// Runs `workers` request loops for `duration`; the limit is `limit(t)` requests/s with a
/// burst of 10 (like nginx limit_req); every answer takes `latency`.
sim_result simulate(rate_controller& rc, std::function<double(double)> limit, clock_type::duration duration,
                    int workers = 8, clock_type::duration latency = 5ms) {
  struct event {
    clock_type::time_point at;
    int worker;
    bool answer;  // else: ask to start
    bool ok;
    clock_type::time_point sent;
    bool operator>(event const& o) const { return at != o.at ? at > o.at : worker > o.worker; }
  };
  std::priority_queue<event, std::vector<event>, std::greater<>> q;
  for (int w = 0; w < workers; ++w) q.push({start, w, false, false, start});
  server_bucket server{limit(0), 10, 10, start};
  sim_result r;
  auto const n = static_cast<std::size_t>(secs(duration) * 10) + 1;
  r.ok_per_100ms.assign(n, 0);
  r.refused_per_100ms.assign(n, 0);
  while (!q.empty()) {
    auto e = q.top();
    q.pop();
    if (e.at >= start + duration) continue;
    auto const slot = static_cast<std::size_t>(secs(e.at - start) * 10);
    if (e.answer) {
      if (e.ok) {
        rc.on_success(e.at);
        ++r.ok_per_100ms[slot];
      } else {
        rc.on_throttled(e.at, e.sent);  // like nginx: no Retry-After
        ++r.refused_per_100ms[slot];
      }
      q.push({e.at, e.worker, false, false, e.at});
      continue;
    }
    auto const d = rc.try_acquire(e.at);
    if (!d.granted) {
      q.push({e.at + d.wait, e.worker, false, false, e.at});
      continue;
    }
    server.rate = limit(secs(e.at - start));
    bool const ok = server.admit(e.at);
    q.push({e.at + latency, e.worker, true, ok, e.at});
  }
  return r;
}

void converges_to(double limit, int workers = 8, clock_type::duration latency = 5ms) {
  rate_controller rc;
  auto const r = simulate(rc, [&](double) { return limit; }, 30s, workers, latency);
  double const goodput = r.goodput(5, 30) / limit;
  double const refused = r.refused_share(5, 30);
  double const converged = r.converged_at(0.9 * limit, 30);
  std::printf("[ sim      ] limit %4.0f/s, %2d workers, %2lld ms: goodput %.3f of the limit over "
              "5-30 s, %.2f %% refused (%.2f %% over 0-30 s, %.1f %% in the first second), "
              "every 2 s window >= 0.9 L from %.1f s, %llu throttles, %llu cuts\n",
              limit, workers, static_cast<long long>(latency / 1ms), goodput, refused * 100,
              r.refused_share(0, 30) * 100, r.refused_share(0, 1) * 100, converged,
              static_cast<unsigned long long>(rc.stats(start + 30s).throttle_events),
              static_cast<unsigned long long>(rc.stats(start + 30s).cuts));
  EXPECT_GE(goodput, 0.9);
  EXPECT_LE(refused, 0.05);
  EXPECT_LE(converged, 5.0);
}

TEST(RateControllerSim, ConvergesAt20PerSecond) { converges_to(20); }
TEST(RateControllerSim, ConvergesAt100PerSecond) { converges_to(100); }
TEST(RateControllerSim, ConvergesAt500PerSecond) { converges_to(500); }
TEST(RateControllerSim, ConvergesWithSlowAnswersAndManyWorkers) { converges_to(100, 32, 40ms); }

TEST(RateControllerSim, ProbesUpWhenTheLimitRises) {
  rate_controller rc;
  auto const r = simulate(rc, [](double t) { return t < 15 ? 100.0 : 300.0; }, 35s);
  double reached = -1;
  for (double t = 15; t + 1 <= 35; t += 0.1)
    if (r.goodput(t, t + 1) >= 0.8 * 300) {
      reached = t + 1 - 15;
      break;
    }
  std::printf("[ sim      ] limit 100 -> 300/s at 15 s: 1 s goodput >= 240/s %.1f s later; "
              "goodput over 27-35 s %.3f of 300, %.2f %% refused\n",
              reached, r.goodput(27, 35) / 300, r.refused_share(27, 35) * 100);
  EXPECT_GE(reached, 0);
  EXPECT_LE(reached, 10.0);
  EXPECT_GE(r.goodput(27, 35), 0.85 * 300);
}

TEST(RateControllerSim, PerMinuteQuotaWithVeltsTryAgainAfter) {
  // A 600-per-minute fixed-window quota (windows not aligned with the run's start); each
  // refusal says "Try again after 1 minute". One request at a time, 5 ms each.
  rate_controller rc;
  auto const hint = parse_try_again_after("Rate limit exceeded. Try again after 1 minute.");
  ASSERT_TRUE(hint.has_value());
  long ok = 0, refused = 0, window = -1, used = 0;
  for (auto t = start; t < start + 600s;) {
    auto const d = rc.try_acquire(t);
    if (!d.granted) {
      t += d.wait;
      continue;
    }
    if (long const w = (t - start + 17s) / 60s; w != window) {
      window = w;
      used = 0;
    }
    if (used < 600) {
      ++used;
      ++ok;
      rc.on_success(t + 5ms);
    } else {
      ++refused;
      rc.on_throttled(t + 5ms, t, *hint);
    }
    t += 5ms;
  }
  std::printf("[ sim      ] quota 600/min for 10 min: %ld passed (%.2f of 6000), %.2f %% refused\n", ok,
              ok / 6000.0, 100.0 * refused / (ok + refused));
  EXPECT_GE(ok, 0.85 * 6000);
  EXPECT_LE(static_cast<double>(refused) / (ok + refused), 0.01);
}

TEST(RateControllerSim, HardCapHoldsAgainstAGenerousServer) {
  rate_controller rc(rate_controller_options{.max_rate = 50.0});
  auto const r = simulate(rc, [](double) { return 1000.0; }, 10s);
  for (double t = 0; t + 1 <= 10; t += 0.1) EXPECT_LE(r.goodput(t, t + 1), 51.0) << t;
  EXPECT_EQ(r.refused_share(0, 10), 0.0);
  EXPECT_GE(r.goodput(1, 10), 49.0);
}

}  // namespace
}  // namespace velt::test::batch
