// SPDX-License-Identifier: BSL-1.0
// A batch run waits out throttling and outages (issue 13): against the local server's
// models of a rate limit, a per-window quota, an outage, and users refused one by one.
#include "batch/batch_support.hpp"
#include "batch/export_support.hpp"

#include <velt/batch.hpp>

#include <gtest/gtest.h>

#include <cstdio>

namespace velt::test::batch {
namespace {

using namespace std::chrono_literals;

/// Every user exported, none failed: the server's data arrived whole.
void expect_all_exported(batch_result const& r, sink_log& log, std::size_t users) {
  EXPECT_EQ(r.how, batch_result::end::complete) << r.error.to_string();
  EXPECT_EQ(r.stats.users_complete, users);
  EXPECT_EQ(r.stats.users_failed, 0u);
  std::lock_guard lock(log.mutex);
  for (auto const& [id, u] : log.users) {
    ASSERT_TRUE(u.outcome) << id;
    EXPECT_EQ(u.outcome->what, user_outcome::state::complete) << id << ": " << u.outcome->error.to_string();
  }
}

TEST(BatchPatience, ARateLimitWithoutRetryAfterIsHeldAndNoUserFails) {
  auto o = data_for(30);
  o.data.heavy_users = 0;
  // Far below what this client sends even under ThreadSanitizer (~40 requests/s on 2
  // cores; hundreds without it), so that the limit is met in every build.
  o.rate = mock::rate_limit{.per_second = 10, .burst = 3, .answer = mock::rate_limit_answer::plain};
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id()});  // defaults: 64 users at once
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  expect_all_exported(r, log, 30);
  auto const s = srv.stats();
  std::printf("[ limit    ] %llu requests, %llu refused\n", static_cast<unsigned long long>(s.requests),
              static_cast<unsigned long long>(s.refused_rate));
  EXPECT_GT(s.refused_rate, 0u);  // the limit was met
  EXPECT_GE(r.stats.throttle_events, 1u);
  EXPECT_TRUE(r.stats.rate);  // and the run paced itself
  // Held, not hammered: once the rate is found, most requests get through.
  EXPECT_LT(static_cast<double>(s.refused_rate), 0.5 * static_cast<double>(s.requests)) << s.refused_rate << " of " << s.requests;
}

TEST(BatchPatience, AQuotaThatNamesItsWaitInTheMessageIsWaitedOut) {
  auto o = data_for(30);
  o.data.heavy_users = 0;
  // 10 per second: met in every build, even under ThreadSanitizer (see above).
  o.quota = mock::request_quota{.requests = 10, .window = 1s};  // "Try again after 1 second."
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 16});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  expect_all_exported(r, log, 30);
  EXPECT_GT(srv.stats().refused_quota, 0u);
}

void outage_costs_no_user(mock::outage_mode mode) {
  auto o = data_for(100);
  mock::fault slow;  // spread the run over the outage
  slow.kind = mock::fault_kind::latency;
  slow.latency = 15ms;
  o.faults.push_back(slow);
  o.outage = mock::outage_window{.start = 150ms, .duration = 2s, .mode = mode};
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::vector<bool> outage_events;
  std::mutex m;
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 8,
                        .on_outage = [&](outage_event const& ev) {
                          std::lock_guard lock(m);
                          outage_events.push_back(ev.began);
                        }});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  expect_all_exported(r, log, 100);
  EXPECT_GT(srv.stats().refused_outage, 0u);  // the run met the outage
  EXPECT_GE(r.stats.outages, 1u);
  std::lock_guard lock(m);
  ASSERT_GE(outage_events.size(), 2u);
  EXPECT_TRUE(outage_events.front());
  EXPECT_FALSE(outage_events.back());  // and resumed
}

TEST(BatchPatience, AnOutageWithRefusedConnectionsCostsNoUser) { outage_costs_no_user(mock::outage_mode::refuse); }
TEST(BatchPatience, AnOutageWith503PagesCostsNoUser) { outage_costs_no_user(mock::outage_mode::html503); }

TEST(BatchPatience, AnOutageLongerThanMaxStallStopsTheRunCleanlyAndARerunCompletes) {
  auto o = data_for(20);
  o.outage = mock::outage_window{.start = 0ms, .duration = 3000ms, .mode = mock::outage_mode::html503};
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 4, .max_stall = 800ms});
  sink_log log;
  auto const started = std::chrono::steady_clock::now();
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::stalled);
  EXPECT_EQ(r.error.http_status, 503u) << r.error.to_string();
  EXPECT_EQ(r.stats.users_failed, 0u);  // not done, not failed
  EXPECT_GE(r.stats.users_stopped, 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2900ms);  // it did not wait the outage out

  std::this_thread::sleep_for(3100ms - (std::chrono::steady_clock::now() - started));
  sink_log again;
  auto const r2 = run_batch(io, ex, srv.user_ids(), again);
  expect_all_exported(r2, again, 20);
}

TEST(BatchPatience, UsersRefusedOneByOneAreTheirOwnFailuresWhenAProbeShowsTheCredentialsWork) {
  auto o = data_for(8);
  mock::server probe_ids(o);  // the same data: to name the users before the faults
  auto const users = probe_ids.user_ids();
  mock::fault denied;
  denied.kind = mock::fault_kind::http_error_json;
  denied.http_status = 403;  // PERMISSION_DENIED, for this user only
  denied.user_id = users[6];
  mock::fault invalid = denied;
  invalid.http_status = 400;  // INVALID_ARGUMENT
  invalid.user_id = users[7];
  o.faults = {denied, invalid};
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 2});
  // A rerun: the first six users are complete in the sink already; only the two refused remain.
  sink_log log;
  for (std::size_t i = 0; i < 6; ++i) log.resume[users[i]] = resume_point{.complete = true};
  auto const r = run_batch(io, ex, users, log);
  EXPECT_EQ(r.how, batch_result::end::complete) << r.error.to_string();
  EXPECT_EQ(r.stats.users_skipped, 6u);
  EXPECT_EQ(r.stats.users_failed, 2u);
  EXPECT_EQ(log.at(users[6]).outcome->error.status, status::permission_denied);
  EXPECT_EQ(log.at(users[7]).outcome->error.status, status::invalid_argument);
}

TEST(BatchPatience, AProbeTheServerRefusesTooStopsTheRunForTheCredentials) {
  auto o = data_for(6);
  mock::server srv(o);
  auto const users = srv.user_ids();
  asio::io_context io;
  auto opts = options_for(srv);
  opts.auth_token = "revoked";
  velt::client c(io.get_executor(), opts);
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 1,
                        .credential_probe = users[0]});
  sink_log log;
  auto const r = run_batch(io, ex, users, log);
  EXPECT_EQ(r.how, batch_result::end::credentials_refused);
  EXPECT_EQ(r.error.status, status::unauthenticated);
  EXPECT_EQ(r.stats.users_failed, 0u);
  EXPECT_EQ(r.stats.users_started, 1u);  // decided on the first refusal, by the probe
}

TEST(BatchPatience, MaxStallMustBePositive) {
  asio::io_context io;
  expect_refused([&] { batch_exporter(offline_client(io), {.organization_id = "o", .max_stall = 0ms}); },
                 "max_stall");
}

}  // namespace
}  // namespace velt::test::batch
