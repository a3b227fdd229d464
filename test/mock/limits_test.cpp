// SPDX-License-Identifier: BSL-1.0
// The limits of a real deployment: the sans-I/O units with the time passed in, then the
// server over TLS on loopback (bounds, not exact timings).
#include "limits.hpp"
#include "test_client.hpp"

#include <velt/mock/options.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using detail::steady_time;
using testing::get_body;
using testing::reply;
using testing::test_client;
using clock_type = std::chrono::steady_clock;

steady_time const t0{std::chrono::hours{1}};

TEST(MockLimitUnits, TokenBucketBurstThenRate) {
  detail::token_bucket b(10.0, 3, t0);  // 10/s, bucket of 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take(t0).admitted) << i;
  auto const refused = b.take(t0);
  EXPECT_FALSE(refused.admitted);
  EXPECT_NEAR(std::chrono::duration<double>(refused.wait).count(), 0.1, 1e-6);
  EXPECT_FALSE(b.take(t0 + 99ms).admitted);
  EXPECT_TRUE(b.take(t0 + 100ms).admitted);
  EXPECT_FALSE(b.take(t0 + 150ms).admitted);
  // A long pause refills only up to the bucket's size.
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += b.take(t0 + 10s).admitted ? 1 : 0;
  EXPECT_EQ(admitted, 3);
  // Over one second of steady arrivals every 10 ms: about 10 admitted.
  admitted = 0;
  for (int i = 1; i <= 100; ++i) admitted += b.take(t0 + 10s + i * 10ms).admitted ? 1 : 0;
  EXPECT_GE(admitted, 9);
  EXPECT_LE(admitted, 11);
  // Time going backwards (other threads' clocks) never adds tokens.
  EXPECT_FALSE(b.take(t0).admitted);
}

TEST(MockLimitUnits, TokenBucketDefaultBurstIsOne) {
  detail::token_bucket b(2.0, 1, t0);
  EXPECT_TRUE(b.take(t0).admitted);
  EXPECT_FALSE(b.take(t0 + 1ms).admitted);
  EXPECT_TRUE(b.take(t0 + 500ms).admitted);
  EXPECT_THROW(detail::token_bucket(0.0, 1, t0), std::invalid_argument);
}

TEST(MockLimitUnits, FixedWindowCountsPerWindow) {
  detail::fixed_window w(3, 60s, t0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(w.take(t0 + 1s).admitted);
  auto const refused = w.take(t0 + 20s);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.wait, 40s);
  EXPECT_FALSE(w.take(t0 + 59s).admitted);
  EXPECT_TRUE(w.take(t0 + 60s).admitted);  // a new window
  EXPECT_TRUE(w.take(t0 + 61s).admitted);
  EXPECT_TRUE(w.take(t0 + 119s).admitted);
  EXPECT_FALSE(w.take(t0 + 119s).admitted);
  EXPECT_TRUE(w.take(t0 + 300s).admitted);  // skipped windows
}

TEST(MockLimitUnits, OutageWindow) {
  outage_window const w{2s, 4s, outage_mode::refuse};
  EXPECT_FALSE(detail::in_outage(w, t0, t0));
  EXPECT_FALSE(detail::in_outage(w, t0, t0 + 1999ms));
  EXPECT_TRUE(detail::in_outage(w, t0, t0 + 2s));
  EXPECT_TRUE(detail::in_outage(w, t0, t0 + 5999ms));
  EXPECT_FALSE(detail::in_outage(w, t0, t0 + 6s));
}

TEST(MockLimitUnits, MessagesAndRetryAfter) {
  EXPECT_EQ(detail::quota_message(60s), "Rate limit exceeded. Try again after 1 minute.");
  EXPECT_EQ(detail::window_phrase(120s), "2 minutes");
  EXPECT_EQ(detail::window_phrase(10s), "10 seconds");
  EXPECT_EQ(detail::window_phrase(90s), "90 seconds");
  EXPECT_EQ(detail::window_phrase(1s), "1 second");
  EXPECT_EQ(detail::retry_after_seconds(1ns), 1u);
  EXPECT_EQ(detail::retry_after_seconds(1s), 1u);
  EXPECT_EQ(detail::retry_after_seconds(1001ms), 2u);
  EXPECT_EQ(detail::retry_after_seconds(0ns), 1u);

  auto const plain = detail::rate_limited_response(rate_limit_answer::plain, 2500ms);
  EXPECT_EQ(plain.status, 429u);
  EXPECT_TRUE(plain.headers.empty());
  auto const ra = detail::rate_limited_response(rate_limit_answer::retry_after, 2500ms);
  ASSERT_EQ(ra.headers.size(), 1u);
  EXPECT_EQ(ra.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));
  auto const env = detail::rate_limited_response(rate_limit_answer::envelope, 2500ms);
  EXPECT_EQ(env.status, 429u);
  EXPECT_NE(env.body->find("RESOURCE_EXHAUSTED"), std::string::npos);
  EXPECT_NE(env.body->find("Try again after 3 seconds."), std::string::npos);
  EXPECT_EQ(detail::busy_response(busy_answer::envelope).status, 503u);
  EXPECT_NE(detail::busy_response(busy_answer::envelope).body->find("UNAVAILABLE"), std::string::npos);
  EXPECT_NE(detail::busy_response(busy_answer::html).body->find("<html>"), std::string::npos);
  EXPECT_NE(detail::outage_response().body->find("nginx"), std::string::npos);
}

TEST(MockLimitUnits, LimiterOrderAndConcurrency) {
  server_options o;
  o.rate = rate_limit{1.0, 2};
  o.quota = request_quota{3, 10s};
  o.max_concurrent = 1;
  o.outage = outage_window{5s, 1s, outage_mode::html503};
  detail::limiter l(o, t0);
  {
    auto a = l.check(t0);
    EXPECT_EQ(a.refused, detail::refusal::none);
    auto b = l.check(t0);  // a still in flight
    EXPECT_EQ(b.refused, detail::refusal::concurrency);
    ASSERT_TRUE(b.response);
    EXPECT_EQ(b.response->status, 503u);
  }
  EXPECT_EQ(l.check(t0).refused, detail::refusal::none);  // burst of 2 used
  EXPECT_EQ(l.check(t0).refused, detail::refusal::rate);
  EXPECT_EQ(l.check(t0 + 1s).refused, detail::refusal::none);  // third of the quota
  EXPECT_EQ(l.check(t0 + 2s).refused, detail::refusal::quota);
  auto out = l.check(t0 + 5500ms);
  EXPECT_EQ(out.refused, detail::refusal::outage);
  ASSERT_TRUE(out.response);
  EXPECT_EQ(out.response->status, 503u);
  EXPECT_FALSE(l.refuses_connections(t0 + 5500ms));  // html503 mode keeps accepting
  EXPECT_EQ(l.check(t0 + 10s).refused, detail::refusal::none);  // new window, bucket refilled

  server_options r;
  r.outage = outage_window{0ms, 1s, outage_mode::refuse};
  detail::limiter lr(r, t0);
  EXPECT_TRUE(lr.refuses_connections(t0));
  auto const d = lr.check(t0);
  EXPECT_EQ(d.refused, detail::refusal::outage);
  EXPECT_FALSE(d.response);  // reset, no answer
  EXPECT_FALSE(lr.refuses_connections(t0 + 1s));
}

TEST(MockLimitUnits, ParseSpecs) {
  auto const r = parse_rate_limit("20");
  EXPECT_DOUBLE_EQ(r.per_second, 20.0);
  EXPECT_EQ(r.burst, 1u);
  auto const r2 = parse_rate_limit("0.5,10");
  EXPECT_DOUBLE_EQ(r2.per_second, 0.5);
  EXPECT_EQ(r2.burst, 10u);
  for (auto bad : {"", "0", "-1", "x", "5,0", "5,", "5,x"}) EXPECT_THROW(parse_rate_limit(bad), std::invalid_argument) << bad;
  auto const q = parse_quota("30/60");
  EXPECT_EQ(q.requests, 30u);
  EXPECT_EQ(q.window, 60s);
  EXPECT_EQ(parse_quota("5/1m").window, 60s);
  for (auto bad : {"30", "30/0", "x/60", "30/1.5", "30/500ms"}) EXPECT_THROW(parse_quota(bad), std::invalid_argument) << bad;
  auto const w = parse_outage("2s+4s");
  EXPECT_EQ(w.start, 2s);
  EXPECT_EQ(w.duration, 4s);
  auto const w2 = parse_outage("500ms+1.5s");
  EXPECT_EQ(w2.start, 500ms);
  EXPECT_EQ(w2.duration, 1500ms);
  EXPECT_EQ(parse_outage("1+1m").duration, 60s);
  for (auto bad : {"2s", "x+1s", "1s+", "-1s+2s"}) EXPECT_THROW(parse_outage(bad), std::invalid_argument) << bad;
  EXPECT_EQ(rate_limit_answer_from_string("retry-after"), rate_limit_answer::retry_after);
  EXPECT_EQ(outage_mode_from_string("html503"), outage_mode::html503);
  EXPECT_EQ(busy_answer_from_string("html"), busy_answer::html);
  EXPECT_FALSE(busy_answer_from_string("xml"));
}

// ---- end to end, over TLS on loopback -------------------------------------------------------

server_options small() {
  server_options o;
  o.data.users = 3;
  o.data.min_items = 1;
  o.data.max_items = 5;
  o.data.heavy_users = 0;
  o.data.empty_user_fraction = 0;
  return o;
}

std::string const page_path = "/v2/users/data/get";
std::string const body = get_body("org-1", "user-0001");

TEST(MockLimits, RateLimitRefusesAboutTheRightShare) {
  server_options o = small();
  o.rate = rate_limit{20.0, 1, rate_limit_answer::retry_after};
  server srv(o);
  test_client c(srv);
  unsigned ok = 0, limited = 0;
  auto const start = clock_type::now();
  for (int i = 0; i < 50; ++i) {
    auto const r = c.post(page_path, body);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.header("retry-after"), "1");
    }
  }
  double const elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  EXPECT_EQ(ok + limited, 50u);
  // A full bucket of 1, then 20 tokens a second.
  EXPECT_GE(ok, 1u);
  EXPECT_LE(ok, 2.0 + 20.0 * elapsed) << elapsed;
  if (elapsed < 1.0) {
    EXPECT_GE(limited, 25u) << elapsed;
  }
  // /_mock/ is never limited.
  auto const st = c.request("GET", "/_mock/stats", "");
  EXPECT_EQ(st.status, 200u);
  EXPECT_EQ(st.json().at("refused_rate").to_number<std::uint64_t>(), limited);
  auto const s = srv.stats();
  EXPECT_EQ(s.requests, 50u);
  EXPECT_EQ(s.refused_rate, limited);
  EXPECT_EQ(s.refused(), limited);
}

TEST(MockLimits, RateLimitEnvelopeAndPlainAnswers) {
  for (auto answer : {rate_limit_answer::envelope, rate_limit_answer::plain}) {
    server_options o = small();
    o.rate = rate_limit{0.5, 2, answer};
    server srv(o);
    test_client c(srv);
    EXPECT_EQ(c.post(page_path, body).status, 200u);
    EXPECT_EQ(c.post(page_path, body).status, 200u);
    auto const r = c.post(page_path, body);
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("retry-after"), "");
    if (answer == rate_limit_answer::envelope) {
      EXPECT_EQ(r.json().at("error").at("status").as_string(), "RESOURCE_EXHAUSTED");
    } else {
      EXPECT_EQ(r.body, "Too Many Requests\n");
    }
    EXPECT_EQ(srv.stats().refused_rate, 1u);
  }
}

TEST(MockLimits, QuotaAnswersWithVeltsMessage) {
  server_options o = small();
  o.quota = request_quota{3, 60s};
  server srv(o);
  test_client c(srv);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.post(page_path, body).status, 200u) << i;
  for (int i = 0; i < 2; ++i) {
    auto const r = c.post(page_path, body);
    ASSERT_EQ(r.status, 429u);
    auto const doc = r.json();
    auto const& err = doc.at("error");
    EXPECT_EQ(err.at("status").as_string(), "RESOURCE_EXHAUSTED");
    EXPECT_EQ(err.at("message").as_string(), "Rate limit exceeded. Try again after 1 minute.");
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(c.request("GET", "/_mock/stats", "").status, 200u);
  EXPECT_EQ(srv.stats().refused_quota, 2u);
  EXPECT_EQ(srv.stats().requests, 5u);

  server_options o2 = small();
  o2.quota = request_quota{0, 10s};
  server srv2(o2);
  test_client c2(srv2);
  EXPECT_EQ(c2.post(page_path, body).json().at("error").at("message").as_string(),
            "Rate limit exceeded. Try again after 10 seconds.");
}

TEST(MockLimits, MaxConcurrentGives503ToTheExcess) {
  for (auto answer : {busy_answer::envelope, busy_answer::html}) {
    server_options o = small();
    o.threads = 2;
    o.max_concurrent = 2;
    o.busy = answer;
    server srv(o);
    srv.set_latency(400ms, 0ms);
    constexpr int n = 6;
    std::vector<std::unique_ptr<test_client>> clients;
    for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<test_client>(srv));
    std::vector<unsigned> status(n);
    std::vector<std::string> bodies(n);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        auto const r = clients[i]->post(page_path, body);
        status[i] = r.status;
        bodies[i] = r.body;
      });
    }
    for (auto& t : threads) t.join();
    unsigned ok = 0, busy = 0;
    for (int i = 0; i < n; ++i) {
      if (status[i] == 200) ++ok;
      if (status[i] == 503) {
        ++busy;
        EXPECT_NE(bodies[i].find(answer == busy_answer::html ? "<html>" : "UNAVAILABLE"), std::string::npos);
      }
    }
    EXPECT_EQ(ok + busy, unsigned{n});
    EXPECT_GE(ok, 2u);
    EXPECT_GE(busy, 1u);
    EXPECT_EQ(srv.stats().refused_concurrency, busy);
    // Once the slow ones are done, there is room again.
    EXPECT_EQ(clients[0]->post(page_path, body).status, 200u);
  }
}

TEST(MockLimits, OutageRefuseResetsThenServiceResumes) {
  server_options o = small();
  o.outage = outage_window{400ms, 600ms, outage_mode::refuse};
  server srv(o);
  auto const started = clock_type::now();  // a little after the server's own start
  test_client early(srv);
  EXPECT_EQ(early.post(page_path, body).status, 200u);
  std::this_thread::sleep_until(started + 500ms);
  EXPECT_TRUE(test_client::try_connect(srv, "127.0.0.1", 2s));
  reply r;
  EXPECT_FALSE(early.send("POST", page_path, body));
  EXPECT_TRUE(early.receive(r));  // reset, no answer
  std::this_thread::sleep_until(started + 1100ms);
  test_client late(srv);
  EXPECT_EQ(late.post(page_path, body).status, 200u);
  auto const s = srv.stats();
  EXPECT_GE(s.refused_outage, 2u);  // the connection and the request
  EXPECT_EQ(s.refused_rate + s.refused_quota + s.refused_concurrency, 0u);
}

TEST(MockLimits, OutageHtml503ThenServiceResumes) {
  server_options o = small();
  o.outage = outage_window{0ms, 500ms, outage_mode::html503};
  server srv(o);
  auto const started = clock_type::now();
  test_client c(srv);
  auto const r = c.post(page_path, body);
  ASSERT_EQ(r.status, 503u);
  EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("503 Service Temporarily Unavailable"), std::string::npos);
  EXPECT_EQ(c.request("GET", "/_mock/stats", "").status, 200u);  // never limited
  std::this_thread::sleep_until(started + 600ms);
  EXPECT_EQ(c.post(page_path, body).status, 200u);  // same connection, service back
  EXPECT_EQ(srv.stats().refused_outage, 1u);
}

}  // namespace
}  // namespace velt::mock
