// SPDX-License-Identifier: BSL-1.0
// velt::batch_exporter end to end over TLS against the in-process local server.
#include "batch/batch_support.hpp"
#include "batch/export_support.hpp"
#include "client/support.hpp"

#include <velt/batch.hpp>
#include <velt/wire.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace velt::test::batch {
namespace {
namespace asio = boost::asio;

TEST(BatchExport, ExportsEveryUserInOrderWithinTheConcurrency) {
  mock::server srv(data_for(30));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 4});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_complete, 30u);
  EXPECT_EQ(r.stats.users_failed + r.stats.users_stopped + r.stats.users_skipped, 0u);
  EXPECT_EQ(r.stats.in_flight, 0u);
  EXPECT_LE(log.max_live, 4u);
  EXPECT_EQ(log.max_live, 4u);
  std::uint64_t pages = 0;
  auto const st = srv.stats();
  for (auto const& user : srv.user_ids()) {
    auto& u = log.at(user);
    ASSERT_TRUE(u.outcome) << user;
    EXPECT_EQ(u.outcome->what, user_outcome::state::complete) << user;
    EXPECT_EQ(u.finishes, 1);
    EXPECT_TRUE(same_export(expected(srv, user), u.data)) << user;
    ASSERT_EQ(u.indices.size(), srv.expected_pages(user)) << user;
    for (std::size_t i = 0; i < u.indices.size(); ++i) {
      EXPECT_EQ(u.indices[i], i) << user;
      EXPECT_EQ(st.requests_for(user, i), 1u) << user << " page " << i;
    }
    pages += u.indices.size();
  }
  EXPECT_EQ(r.stats.pages, pages);
  EXPECT_GT(pages, 30u);  // some users have several pages
}

TEST(BatchExport, RunsOnAnIoContextWithSeveralThreads) {
  mock::server srv(data_for(40));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 8,
                        .format = page_format::raw});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log, 4);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_complete, 40u);
  for (auto const& user : srv.user_ids()) EXPECT_TRUE(same_export(expected(srv, user), log.at(user).data)) << user;
}

TEST(BatchExport, ResumesFromTheTokenTheSinkGivesAndSkipsCompleteUsers) {
  mock::server srv(data_for(12));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  // A user with several pages: its first page is "already held" by the sink.
  std::string multi;
  for (auto const& u : srv.user_ids())
    if (srv.expected_pages(u) >= 2) multi = u;
  ASSERT_FALSE(multi.empty());
  auto first = c.async_fetch_all_user_data({.organization_id = srv.organization_id(), .user_id = multi});
  auto page0 = run(io, [](page_stream* s) -> asio::awaitable<std::optional<user_data_page>> {
    co_return co_await s->async_next(asio::use_awaitable);
  }(&first));
  ASSERT_TRUE(page0 && page0->next_page_token());
  std::string const done = srv.user_ids().front() == multi ? srv.user_ids().back() : srv.user_ids().front();
  srv.reset_stats();

  sink_log log;
  log.resume[multi] = resume_point{.page_token = *page0->next_page_token(), .pages = 1};
  log.resume[done] = resume_point{.complete = true};
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 3});
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_skipped, 1u);
  EXPECT_EQ(r.stats.users_complete, 11u);
  auto const st = srv.stats();
  EXPECT_EQ(st.requests_for(multi, 0), 0u);  // the held page is not fetched again
  EXPECT_EQ(st.requests_for(done, 0), 0u);
  EXPECT_EQ(log.at(done).outcome->what, user_outcome::state::skipped);
  auto const& m = log.at(multi);
  ASSERT_EQ(m.indices.size(), srv.expected_pages(multi) - 1);
  EXPECT_EQ(m.indices.front(), 1u);  // indices go on from the held pages
  // Held page + the rest = the whole export.
  boost::json::object whole = page0->data();
  for (auto const& [k, v] : m.data)
    for (auto const& item : v.as_array()) whole[k].as_array().push_back(item);
  EXPECT_TRUE(same_export(expected(srv, multi), whole));
}

TEST(BatchExport, ARefusedSavedTokenStartsTheUserAgain) {
  mock::server srv(data_for(3));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::string const user = srv.user_ids().front();
  sink_log log;
  log.resume[user] = resume_point{.page_token = "not-a-token-of-this-server", .pages = 2};
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 2});
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  auto const& u = log.at(user);
  EXPECT_EQ(u.restarts, 1);
  EXPECT_EQ(u.outcome->what, user_outcome::state::complete);
  EXPECT_TRUE(same_export(expected(srv, user), u.data));
  EXPECT_EQ(u.indices.front(), 0u);
}

TEST(BatchExport, RefusedCredentialsStopTheRunAndNoUserFails) {
  mock::server srv(data_for(20));
  asio::io_context io;
  auto opts = options_for(srv);
  opts.api_key = "revoked";
  velt::client c(io.get_executor(), opts);
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 4});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::credentials_refused);
  EXPECT_EQ(r.error.status, status::permission_denied);
  EXPECT_FALSE(r.credentials_worked_before);
  EXPECT_EQ(r.stats.users_failed, 0u);
  EXPECT_GE(r.stats.users_stopped, 1u);
  EXPECT_LE(r.stats.users_started, 4u);  // no new user after the refusal
}

TEST(BatchExport, ABadUserFailsAloneAndTheRunGoesOn) {
  mock::server srv(data_for(6));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 2});
  auto users = srv.user_ids();
  users.insert(users.begin() + 2, "");  // refused before any I/O
  sink_log log;
  auto const r = run_batch(io, ex, users, log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_failed, 1u);
  EXPECT_EQ(r.stats.users_complete, 6u);
  EXPECT_EQ(log.at("").outcome->what, user_outcome::state::failed);
  EXPECT_EQ(log.at("").outcome->error.status, status::invalid_argument);
  EXPECT_EQ(log.at("").outcome->error.delivery, delivery::not_sent);
}

TEST(BatchExport, ASinkThatThrowsFailsItsUserAndStopsTheRun) {
  mock::server srv(data_for(10));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 2});
  sink_log log;
  log.throw_on_page_of = srv.user_ids()[1];
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::sink_failed);
  EXPECT_NE(r.error.message.find("disk full"), std::string::npos);
  auto const& u = log.at(log.throw_on_page_of);
  ASSERT_TRUE(u.outcome);
  EXPECT_TRUE(u.outcome->sink_failed);
  EXPECT_EQ(u.finishes, 1);
  EXPECT_LT(r.stats.users_started, 10u);
}

TEST(BatchExport, StopAndCancellationEndInFlightUsersAsStopped) {
  auto o = data_for(50);
  mock::fault slow;
  slow.kind = mock::fault_kind::latency;
  slow.latency = 150ms;
  o.faults.push_back(slow);
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 5});
  sink_log log;
  asio::cancellation_signal cancel;
  std::optional<batch_result> result;
  ex.async_run(users_from(srv.user_ids()), sinks_into(log),
               asio::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code, batch_result r) {
                 result = std::move(r);
               }));
  asio::steady_timer t(io, 400ms);
  t.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  auto const started = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(result);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(result->how, batch_result::end::stopped);
  EXPECT_GE(result->stats.users_stopped, 1u);
  EXPECT_EQ(result->stats.users_failed, 0u);
  EXPECT_LT(result->stats.users_started, 50u);
  for (auto const& [id, u] : log.users) EXPECT_EQ(u.finishes, 1) << id;
  // stop() after the run is a no-op; the exporter can run again.
  ex.stop();
  sink_log again;
  auto const r2 = run_batch(io, ex, {srv.user_ids().front()}, again);
  EXPECT_EQ(r2.how, batch_result::end::complete);
  EXPECT_EQ(r2.stats.users_complete, 1u);
}

TEST(BatchExport, ASecondRunAtTheSameTimeIsRefused) {
  mock::server srv(data_for(4));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 2});
  sink_log log, log2;
  std::optional<batch_result> first;
  boost::system::error_code second_ec;
  bool second_done = false;
  ex.async_run(users_from(srv.user_ids()), sinks_into(log), [&](boost::system::error_code, batch_result r) { first = r; });
  ex.async_run(users_from(srv.user_ids()), sinks_into(log2), [&](boost::system::error_code e, batch_result) {
    second_ec = e;
    second_done = true;
  });
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(first && second_done);
  EXPECT_EQ(first->stats.users_complete, 4u);
  EXPECT_EQ(second_ec, make_error_code(errc::invalid_request));
  EXPECT_TRUE(log2.users.empty());
}

TEST(BatchExport, ThrottlingSlowsTheWholeRunDown) {
  auto o = data_for(12);
  mock::fault f;
  f.kind = mock::fault_kind::throttle_429;
  f.retry_after = "";
  f.max_times = 3;
  o.faults.push_back(f);
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::vector<std::pair<std::optional<double>, double>> rates;
  std::mutex m;
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 8,
                        .on_slow_down = [&](slow_down_event const& ev) {
                          std::lock_guard lock(m);
                          rates.emplace_back(ev.rate_before, ev.rate_after);
                          EXPECT_EQ(ev.error.http_status, 429u);
                        }});
  sink_log log;
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_complete, 12u);
  EXPECT_EQ(r.stats.users_failed, 0u);
  EXPECT_GE(r.stats.throttle_events, 1u);
  ASSERT_FALSE(rates.empty());
  EXPECT_FALSE(rates.front().first);  // unlimited until the first throttle
  EXPECT_GT(rates.front().second, 0.0);
  EXPECT_TRUE(r.stats.rate);  // the run holds to a rate from then on
}

TEST(BatchExport, MaxRateSpacesTheRequests) {
  mock::server srv(data_for(10));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 8, .max_rate = 40.0});
  sink_log log;
  auto const started = std::chrono::steady_clock::now();
  auto const r = run_batch(io, ex, srv.user_ids(), log);
  auto const elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.how, batch_result::end::complete);
  // n requests at 40/s take at least (n - 1) / 40 s (a lower bound: never flaky).
  auto const n = static_cast<double>(r.stats.pages);
  EXPECT_GE(std::chrono::duration<double>(elapsed).count(), (n - 1) / 40.0 * 0.95);
}

/// A source that checks it is never asked for more ids than there are free slots.
class counting_source final : public user_source {
 public:
  /// `pulls` counts the calls; it outlives the source, which the run destroys at its end.
  counting_source(std::vector<std::string> ids, std::size_t limit, sink_log& log, std::size_t& pulls)
      : pulls_(pulls), ids_(std::move(ids)), limit_(limit), log_(log) {}
  asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) override {
    {
      std::lock_guard lock(log_.mutex);
      EXPECT_GE(max, 1u);
      EXPECT_LE(max + log_.live, limit_);
    }
    ++pulls_;
    std::vector<std::string> out;
    while (out.size() < max && next_ < ids_.size()) out.push_back(ids_[next_++]);
    co_return out;
  }
 private:
  std::size_t& pulls_;
  std::vector<std::string> ids_;
  std::size_t next_ = 0;
  std::size_t limit_;
  sink_log& log_;
};

TEST(BatchExport, TheSourceIsAskedOnlyForFreeSlots) {
  mock::server srv(data_for(25));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 3});
  sink_log log;
  std::size_t pulls = 0;
  auto src = std::make_unique<counting_source>(srv.user_ids(), 3, log, pulls);
  std::optional<batch_result> result;
  ex.async_run(std::move(src), sinks_into(log), [&](boost::system::error_code, batch_result r) { result = r; });
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->stats.users_complete, 25u);
  EXPECT_GE(pulls, 9u);  // 25 users, at most 3 at a time
}

TEST(BatchExport, RequestExtraGoesWithEveryRequestOfEveryUser) {
  auto o = data_for(12);
  o.recorded_requests = 10'000;
  mock::server srv(o);
  auto const users = srv.user_ids();
  std::string const retried = *std::find_if(users.begin(), users.end(),
                                            [&](auto const& u) { return srv.expected_pages(u) > 2; });
  srv.add_fault(mock::fault{.kind = mock::fault_kind::http_error_json, .user_id = retried, .page_index = 1,
                            .max_times = 1, .http_status = 500});
  boost::json::object const extra{{"veltAllOrganizations", true}, {"uniqueId", "u-1"},
                                  {"veltUserIds", boost::json::array{"a", "b"}}};
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_exporter ex(c, {.organization_id = srv.organization_id(), .concurrency = 4, .request_extra = extra});
  sink_log log;
  auto const r = run_batch(io, ex, users, log);
  EXPECT_EQ(r.how, batch_result::end::complete);
  EXPECT_EQ(r.stats.users_complete, users.size());
  EXPECT_GE(r.stats.retries, 1u);
  for (auto const& user : users) EXPECT_TRUE(same_export(expected(srv, user), log.at(user).data)) << user;

  auto const seen = srv.recent_requests();
  auto const st = srv.stats();
  ASSERT_EQ(seen.size(), st.requests);
  std::map<std::string, std::uint64_t> per_user;
  for (auto const& req : seen) {
    ASSERT_EQ(req.endpoint, wire::endpoint::get_user_data);
    for (auto const& [key, value] : extra) EXPECT_EQ(req.data.at(key), value) << req.data;
    EXPECT_EQ(req.data.at("organizationId"), boost::json::value(srv.organization_id()));
    ++per_user[std::string(req.data.at("userId").as_string())];
  }
  for (auto const& user : users) EXPECT_EQ(per_user[user], st.requests_for_user(user)) << user;
  EXPECT_EQ(per_user[retried], srv.expected_pages(retried) + 1);
}

TEST(BatchExport, InvalidOptionsAreRefusedBeforeAnyIo) {
  asio::io_context io;
  velt::client c = offline_client(io);
  auto refused = [&](batch_options b, std::string const& field) {
    expect_refused([&] { batch_exporter ex(c, std::move(b)); }, field);
  };
  refused({}, "organization_id");
  refused({.organization_id = "o", .concurrency = 0}, "concurrency");
  refused({.organization_id = "o", .max_rate = 0.0}, "max_rate");
  refused({.organization_id = "o", .max_rate = -3.0}, "max_rate");
  for (char const* key : {"organizationId", "userId", "pageToken"})
    refused({.organization_id = "o", .request_extra = {{key, "x"}, {"uniqueId", "u"}}},
            std::string("batch_options::request_extra.") + key + " is reserved");
  refused({.organization_id = "o", .request_extra = {{"uniqueId", "caf\xe9"}}},
          "batch_options::request_extra.uniqueId is not valid UTF-8");
}

}  // namespace
}  // namespace velt::test::batch
