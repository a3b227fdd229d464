// SPDX-License-Identifier: BSL-1.0
// The connection pool: cap, reuse, stale keep-alive recovery, TLS resumption, concurrency.
#include "support.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <thread>

namespace velt::test {
namespace {
namespace asio = boost::asio;

struct user_outcome {
  std::string user;
  bool ok = false;
  std::string problem;
};

asio::awaitable<int> check_user(velt::client c, mock::server const* srv, std::string user,
                                std::shared_ptr<std::vector<user_outcome>> out,
                                std::shared_ptr<std::mutex> m) {
  user_outcome o{user, false, {}};
  try {
    auto got = co_await stream_user(c, srv->organization_id(), user);
    auto verdict = same_export(expected(*srv, user), got.data);
    o.ok = verdict && got.pages == srv->expected_pages(user) && got.indices_in_order;
    if (!o.ok) o.problem = verdict ? "page count or order" : verdict.message();
  } catch (std::exception const& e) {
    o.problem = e.what();
  }
  std::lock_guard lock(*m);
  out->push_back(std::move(o));
  co_return 0;
}

/// Exports every user of `srv` concurrently on `threads` threads; returns the failures.
std::vector<user_outcome> export_all_concurrently(mock::server const& srv, client_options o,
                                                  unsigned threads, client_stats* stats = nullptr) {
  asio::thread_pool pool(threads);
  velt::client c(pool.get_executor(), o);
  auto out = std::make_shared<std::vector<user_outcome>>();
  auto m = std::make_shared<std::mutex>();
  auto users = srv.user_ids();
  std::atomic<std::size_t> finished{0};
  for (auto const& u : users) {
    asio::co_spawn(asio::make_strand(pool.get_executor()), check_user(c, &srv, u, out, m),
                   [&finished](std::exception_ptr, int) { ++finished; });
  }
  auto const give_up = std::chrono::steady_clock::now() + 240s;
  while (finished < users.size() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(10ms);
  pool.join();
  if (stats) *stats = c.stats();
  std::vector<user_outcome> failures;
  if (finished < users.size()) failures.push_back({"*", false, "timed out"});
  for (auto& r : *out)
    if (!r.ok) failures.push_back(r);
  return failures;
}

TEST(ClientPool, FiveHundredUsersOnTwoThreadsComeBackExact) {
  mock::server_options so;
  so.threads = 2;
  so.data.users = 500;
  so.data.max_items = 260;
  so.data.heavy_users = 2;
  so.data.heavy_items = 600;
  mock::server srv(so);
  auto o = options_for(srv);
  o.max_connections = 16;
  client_stats st;
  auto failures = export_all_concurrently(srv, o, 2, &st);
  for (auto const& f : failures) ADD_FAILURE() << f.user << ": " << f.problem;
  EXPECT_LE(srv.stats().max_active_connections, 16u);
  EXPECT_LE(st.connections_opened, 16u);
  EXPECT_LE(st.connections_open_max, 16u);
  EXPECT_GT(st.connections_reused, st.connections_opened);
}

TEST(ClientPool, ABodyBudgetSmallerThanAPageStillExportsEverythingExactly) {
  // Full pages of ~160 KiB (100 items per feature of this data set is ~650 KiB; 25 here),
  // 12 connections, and a budget that fits less than one page: bodies are read one at a
  // time, each waiting for the whole budget, and nothing deadlocks or is lost. Chunked
  // responses (no Content-Length) take the 1 MiB estimate, clamped to the budget.
  mock::server_options so;
  so.threads = 2;
  so.data.users = 40;
  so.data.min_items = 50;
  so.data.max_items = 160;
  so.data.page_size = 25;
  so.faults.push_back({.kind = mock::fault_kind::chunked, .probability = 0.3});
  mock::server srv(so);
  auto o = options_for(srv);
  o.max_connections = 12;
  o.max_buffered_response_bytes = 64u << 10;
  client_stats st;
  auto failures = export_all_concurrently(srv, o, 2, &st);
  for (auto const& f : failures) ADD_FAILURE() << f.user << ": " << f.problem;
  EXPECT_EQ(st.retries, 0u);
  EXPECT_GT(srv.stats().faults_injected, 0u);
  // A body keeps its budget share until it is decoded, also on a decode executor: the
  // same exact export, nothing deadlocks.
  boost::asio::thread_pool decoders(1);
  o.decode_executor = decoders.get_executor();
  failures = export_all_concurrently(srv, o, 2, &st);
  for (auto const& f : failures) ADD_FAILURE() << f.user << " (decode executor): " << f.problem;
  decoders.join();
}

TEST(ClientPool, NeverExceedsItsCapEvenUnderFaults) {
  mock::server_options so;
  so.data.users = 60;
  so.data.max_items = 150;
  so.faults.push_back({.kind = mock::fault_kind::connection_close, .probability = 0.3});
  so.faults.push_back({.kind = mock::fault_kind::latency, .probability = 0.5, .latency = 5ms,
                       .jitter = 10ms});
  mock::server srv(so);
  auto o = options_for(srv);
  o.max_connections = 3;
  client_stats st;
  auto failures = export_all_concurrently(srv, o, 2, &st);
  for (auto const& f : failures) ADD_FAILURE() << f.user << ": " << f.problem;
  // The client closes a connection before it opens the next one; the server may notice
  // the close a little later, so its own count can briefly lag: check the client's.
  EXPECT_LE(st.connections_open_max, 3u);
  EXPECT_GE(st.connections_open_max, 2u);
  EXPECT_GT(srv.stats().connections_accepted, 3u) << "Connection: close was honoured";
}

TEST(ClientPool, RecoversFromConnectionsTheServerClosedWhileIdle) {
  mock::server_options so;
  so.data.users = 3;
  so.idle_timeout = 100ms;
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
  std::this_thread::sleep_for(400ms);  // the server drops the idle connection silently
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
  auto const st = c.stats();
  EXPECT_EQ(st.retries, 0u) << "a stale connection is not a failed attempt";
  EXPECT_EQ(st.connections_opened, 2u);
  EXPECT_GE(srv.stats().idle_closes, 1u);
}

TEST(ClientPool, StaleConnectionFailingAfterSendIsResentTransparently) {
  // close_before_response on a reused connection looks exactly like a keep-alive race: the
  // request went out, the connection died with no response byte. Reads are resent at once.
  mock::server_options so;
  so.data.users = 3;
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto const user = srv.user_ids()[1];
  (void)run(io, stream_user(c, srv.organization_id(), srv.user_ids()[0]));
  srv.add_fault({.kind = mock::fault_kind::close_before_response, .user_id = user, .max_times = 1});
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
  auto const st = c.stats();
  EXPECT_EQ(st.stale_resends, 1u);
  EXPECT_EQ(st.retries, 0u);
}

TEST(ClientPool, IdleConnectionsExpire) {
  mock::server_options so;
  so.data.users = 2;
  mock::server srv(so);
  asio::io_context io;
  auto o = options_for(srv);
  o.idle_connection_timeout = 100ms;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  (void)run(io, stream_user(c, srv.organization_id(), user));
  std::this_thread::sleep_for(250ms);
  (void)run(io, stream_user(c, srv.organization_id(), user));
  EXPECT_EQ(c.stats().connections_opened, 2u);
}

TEST(ClientPool, NewConnectionsResumeTheTlsSession) {
  mock::server_options so;
  so.data.users = 40;
  so.data.max_items = 120;
  mock::server srv(so);
  auto o = options_for(srv);
  o.max_connections = 6;
  client_stats st;
  auto failures = export_all_concurrently(srv, o, 1, &st);
  EXPECT_TRUE(failures.empty());
  EXPECT_GE(st.tls_handshakes_full, 1u);
  auto const srv_stats = srv.stats();
  EXPECT_EQ(st.tls_handshakes_full + st.tls_handshakes_resumed, st.connections_opened);
  EXPECT_EQ(srv_stats.handshakes_resumed, st.tls_handshakes_resumed);
}

TEST(ClientPool, StatsSnapshotCountsWhatHappened) {
  mock::server_options so;
  so.data.users = 5;
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::size_t pages = 0;
  for (auto const& u : srv.user_ids()) pages += run(io, stream_user(c, srv.organization_id(), u)).pages;
  auto const st = c.stats();
  EXPECT_EQ(st.pages, pages);
  EXPECT_EQ(st.requests, pages);
  EXPECT_EQ(st.responses, pages);
  EXPECT_GT(st.bytes_received, st.bytes_sent);
  EXPECT_GT(st.latency_p50.count(), 0);
  EXPECT_LE(st.latency_p50, st.latency_p99);
  EXPECT_LE(st.latency_p99, st.latency_max);
  EXPECT_EQ(st.connections_open, 1u);
  EXPECT_EQ(st.connections_idle, 1u);
  c.close_idle_connections();
  EXPECT_EQ(c.stats().connections_open, 0u);
}

}  // namespace
}  // namespace velt::test
