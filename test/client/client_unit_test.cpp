// SPDX-License-Identifier: BSL-1.0
// Sans-I/O pieces of the client: retry decisions, backoff, budget, origin parsing,
// latency histogram. No sockets, no clock.
#include "client/client_counters.hpp"
#include "client/origin.hpp"
#include "client/retry_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <gtest/gtest.h>

namespace velt::detail {
namespace {
using namespace std::chrono_literals;

error_details server_error(status s, unsigned http, std::optional<std::chrono::seconds> ra = {}) {
  auto e = make_error_details(make_error_code(s), "x", http);
  e.retry_after = ra;
  return e;
}

TEST(ClientUnitRetry, BackoffIsFullJitterUnderAnExponentialCeiling) {
  retry_options o;
  o.initial_backoff = 100ms;
  o.multiplier = 2;
  o.max_backoff = 1000ms;
  EXPECT_EQ(backoff_delay(o, 1, 0.0), 0ms);
  EXPECT_EQ(backoff_delay(o, 1, 0.5), 50ms);
  EXPECT_EQ(backoff_delay(o, 3, 0.5), 200ms);
  EXPECT_EQ(backoff_delay(o, 10, 0.999), 999ms);  // capped at max_backoff
  EXPECT_EQ(backoff_delay(o, 5000, 0.5), 500ms);  // no overflow
}

TEST(ClientUnitRetry, RetryableStatusesAreRetriedOthersAreNot) {
  retry_options o;
  retry_budget b(o);
  EXPECT_EQ(decide_retry(o, b, 1, server_error(status::unavailable, 503), true, 0.5).what,
            retry_decision::verdict::retry);
  EXPECT_EQ(decide_retry(o, b, 1, server_error(status::internal, 500), true, 0.5).what,
            retry_decision::verdict::retry);
  EXPECT_EQ(decide_retry(o, b, 1, server_error(status::invalid_argument, 500), true, 0.5).what,
            retry_decision::verdict::give_up);
  EXPECT_EQ(decide_retry(o, b, 1, server_error(status::permission_denied, 403), true, 0.5).what,
            retry_decision::verdict::give_up);
  EXPECT_EQ(decide_retry(o, b, 1, server_error(status::unavailable, 503), false, 0.5).what,
            retry_decision::verdict::give_up);
  EXPECT_EQ(decide_retry(o, b, o.max_attempts, server_error(status::unavailable, 503), true, 0.5).what,
            retry_decision::verdict::give_up);
  auto conn = make_error_details(make_error_code(boost::asio::error::connection_refused), "x");
  auto d = decide_retry(o, b, 1, conn, true, 0.5);
  EXPECT_EQ(d.what, retry_decision::verdict::retry);
  EXPECT_EQ(d.kind, failure_kind::transport);
}

TEST(ClientUnitRetry, TlsFailuresAreNotRetried) {
  retry_options o;
  retry_budget b(o);
  boost::system::error_code tls(0x0A000086, boost::asio::error::get_ssl_category());
  auto e = make_error_details(tls, "certificate verify failed");
  EXPECT_EQ(decide_retry(o, b, 1, e, true, 0.5).what, retry_decision::verdict::give_up);
}

TEST(ClientUnitRetry, RetryAfterSetsTheMinimumDelayClampedToTheMaximum) {
  retry_options o;
  o.max_retry_after = 10s;
  retry_budget b(o);
  auto d = decide_retry(o, b, 1, server_error(status::resource_exhausted, 429, 3s), true, 0.0);
  EXPECT_EQ(d.what, retry_decision::verdict::retry);
  EXPECT_EQ(d.kind, failure_kind::throttled);
  EXPECT_EQ(d.delay, 3000ms);
  d = decide_retry(o, b, 1, server_error(status::resource_exhausted, 429, 3600s), true, 0.0);
  EXPECT_EQ(d.delay, 10000ms);
}

TEST(ClientUnitRetry, BudgetStopsRetriesAndRecoversWithSuccesses) {
  retry_options o;
  o.budget_max_tokens = 10;
  o.budget_token_ratio = 1;
  retry_budget b(o);
  auto e = server_error(status::unavailable, 503);
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    if (decide_retry(o, b, 1, e, true, 0.5).what == retry_decision::verdict::retry) ++allowed;
  EXPECT_EQ(allowed, 4);  // 10 → 6 tokens still above half; the 5th failure leaves 5
  EXPECT_EQ(decide_retry(o, b, 1, e, true, 0.5).what, retry_decision::verdict::budget_exhausted);
  for (int i = 0; i < 10; ++i) b.on_success();
  EXPECT_EQ(decide_retry(o, b, 1, e, true, 0.5).what, retry_decision::verdict::retry);
  // Server-paced throttling takes no token.
  retry_budget fresh(o);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(decide_retry(o, fresh, 1, server_error(status::resource_exhausted, 429, 0s), true, 0.5).what,
              retry_decision::verdict::retry);
  EXPECT_DOUBLE_EQ(fresh.tokens(), 10);
}

TEST(ClientUnitOrigin, ParsesAndRefuses) {
  origin o;
  ASSERT_FALSE(parse_origin("https://api.velt.dev", false, o));
  EXPECT_EQ(o.host, "api.velt.dev");
  EXPECT_EQ(o.port, 443);
  EXPECT_EQ(o.host_header, "api.velt.dev");
  EXPECT_FALSE(o.host_is_ip);
  ASSERT_FALSE(parse_origin("https://127.0.0.1:8443/", false, o));
  EXPECT_EQ(o.host_header, "127.0.0.1:8443");
  EXPECT_TRUE(o.host_is_ip);
  ASSERT_FALSE(parse_origin("https://[::1]:9000", false, o));
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.host_header, "[::1]:9000");
  ASSERT_FALSE(parse_origin("http://localhost:8080", true, o));
  EXPECT_FALSE(o.tls);
  for (auto bad : {"", "api.velt.dev", "ftp://x", "https://", "https://u:p@host",
                   "https://host/path", "https://host?q=1", "https://host:0", "https://host:99999",
                   "https://ho st", "https://host#f"}) {
    auto e = parse_origin(bad, false, o);
    ASSERT_TRUE(e) << bad;
    EXPECT_NE(e->message.find("base_url"), std::string::npos) << bad;
  }
  auto plain = parse_origin("http://localhost", false, o);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->code, make_error_code(errc::plain_http_refused));
}

TEST(ClientUnitOrigin, HeaderValuesWithControlBytesAreRefusedWithoutEchoingThem) {
  EXPECT_FALSE(validate_header_value("auth_token", "abc.DEF-123_=="));
  for (std::string bad : {std::string(""), std::string("a\rb"), std::string("a\nb"),
                          std::string("a\0b", 3), std::string("a\x01")}) {
    auto e = validate_header_value("auth_token", bad);
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.find("auth_token"), std::string::npos);
    if (bad.size() > 1) {
      EXPECT_EQ(e->message.find(bad), std::string::npos);
    }
  }
}

TEST(ClientUnitHistogram, PercentilesAreWithinABucket) {
  latency_histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(std::chrono::microseconds(i * 1000));
  auto p50 = h.percentile(0.5).count();
  auto p99 = h.percentile(0.99).count();
  EXPECT_NEAR(p50, 500'000, 500'000 * 0.13);
  EXPECT_NEAR(p99, 990'000, 990'000 * 0.13);
  EXPECT_EQ(h.max().count(), 1'000'000);
  for (std::size_t b = 1; b < latency_histogram::bucket_count - 1; ++b)
    EXPECT_EQ(latency_histogram::bucket_of(latency_histogram::upper_edge(b)), b) << b;
}

}  // namespace
}  // namespace velt::detail

// ---- fifo_semaphore: the pool's cap and its first-come, first-served hand-out ----------
#include "client/fifo_semaphore.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace velt::detail {
namespace {
namespace asio = boost::asio;

asio::awaitable<void> take_then_record(fifo_semaphore* sem, int id, std::vector<int>* order,
                                       boost::system::error_code* result) {
  *result = co_await sem->async_acquire();
  if (!*result) order->push_back(id);
}

TEST(ClientUnitSemaphore, WaitersAreServedInArrivalOrder) {
  asio::io_context io;
  fifo_semaphore sem(1);
  std::vector<int> order;
  std::vector<boost::system::error_code> results(4);
  for (int i = 0; i < 4; ++i)
    asio::co_spawn(asio::make_strand(io), take_then_record(&sem, i, &order, &results[i]),
                   asio::detached);
  io.run_for(std::chrono::milliseconds(100));
  ASSERT_EQ(order, std::vector<int>{0});  // one permit: the others wait
  EXPECT_EQ(sem.waiting(), 3u);
  for (int expected = 1; expected < 4; ++expected) {
    sem.release();
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
    ASSERT_EQ(order.back(), expected);
  }
  sem.release();
  EXPECT_EQ(sem.available(), 1u);
}

TEST(ClientUnitSemaphore, ACancelledWaiterLeavesTheQueueWithoutAPermit) {
  asio::io_context io;
  fifo_semaphore sem(1);
  std::vector<int> order;
  boost::system::error_code first, second, third;
  asio::co_spawn(io, take_then_record(&sem, 0, &order, &first), asio::detached);
  asio::cancellation_signal cancel;
  asio::co_spawn(io, take_then_record(&sem, 1, &order, &second),
                 asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::co_spawn(io, take_then_record(&sem, 2, &order, &third), asio::detached);
  io.run_for(std::chrono::milliseconds(50));
  cancel.emit(asio::cancellation_type::terminal);
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(second, asio::error::operation_aborted);
  EXPECT_EQ(sem.waiting(), 1u);
  sem.release();  // goes to waiter 2, not to the cancelled one
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(order, (std::vector<int>{0, 2}));
  EXPECT_FALSE(third);
}

asio::awaitable<void> take_n_then_record(fifo_semaphore* sem, int id, std::size_t n,
                                         std::vector<int>* order,
                                         boost::system::error_code* result,
                                         asio::steady_timer::time_point deadline =
                                             asio::steady_timer::time_point::max()) {
  *result = co_await sem->async_acquire(n, deadline);
  if (!*result) order->push_back(id);
}

TEST(ClientUnitSemaphore, WeightedRequestsKeepArrivalOrder) {
  asio::io_context io;
  fifo_semaphore sem(10);
  std::vector<int> order;
  std::vector<boost::system::error_code> r(4);
  asio::co_spawn(io, take_n_then_record(&sem, 0, 6, &order, &r[0]), asio::detached);
  asio::co_spawn(io, take_n_then_record(&sem, 1, 8, &order, &r[1]), asio::detached);  // waits
  asio::co_spawn(io, take_n_then_record(&sem, 2, 1, &order, &r[2]), asio::detached);  // fits, but queued
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(order, std::vector<int>{0});
  EXPECT_EQ(sem.available(), 4u);
  sem.release(6);  // 10 free: 8 for waiter 1, then 1 for waiter 2
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(sem.available(), 1u);
  sem.release(8);
  sem.release(1);
  EXPECT_EQ(sem.available(), 10u);
}

TEST(ClientUnitSemaphore, ALargeWaiterThatGivesUpUnblocksTheOnesBehind) {
  asio::io_context io;
  fifo_semaphore sem(10);
  std::vector<int> order;
  std::vector<boost::system::error_code> r(3);
  asio::co_spawn(io, take_n_then_record(&sem, 0, 6, &order, &r[0]), asio::detached);
  asio::co_spawn(io,
                 take_n_then_record(&sem, 1, 8, &order, &r[1],
                                    asio::steady_timer::clock_type::now() + std::chrono::milliseconds(30)),
                 asio::detached);
  asio::co_spawn(io, take_n_then_record(&sem, 2, 3, &order, &r[2]), asio::detached);
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(r[1], asio::error::timed_out);  // its deadline passed while it waited
  EXPECT_EQ(order, (std::vector<int>{0, 2}));  // then waiter 2 fitted in the 4 left
  EXPECT_EQ(sem.available(), 1u);
  EXPECT_EQ(sem.waiting(), 0u);
}

}  // namespace
}  // namespace velt::detail
