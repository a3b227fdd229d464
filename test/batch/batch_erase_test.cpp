// SPDX-License-Identifier: BSL-1.0
// velt::batch_eraser end to end over TLS against the in-process local server.
#include "batch/batch_support.hpp"
#include "client/support.hpp"

#include <velt/batch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <set>

namespace velt::test::batch {
namespace {
namespace asio = boost::asio;

mock::server_options erase_data(std::size_t users) {
  mock::server_options o;
  o.data.users = users;
  o.data.max_items = 40;
  o.delete_tasks = 2;
  o.delete_task_duration = 20ms;
  return o;
}

struct recorder final : erase_observer {
  std::vector<std::pair<std::vector<std::string>, std::string>> queued;  // users, job id
  std::vector<std::pair<std::vector<std::string>, error_details>> not_queued;
  std::set<std::string> completed, unfinished;
  std::map<std::string, std::map<std::string, std::uint64_t>> remaining;
  std::set<std::string> unverified;
  std::map<std::string, user_verification> verified;
  std::vector<std::string> order;  // "verified <user>", "remaining <user>", as called
  void on_queued(std::vector<std::string> const& u, delete_job const& j) override { queued.emplace_back(u, j.job_id); }
  void on_not_queued(std::vector<std::string> const& u, error_details const& e) override { not_queued.emplace_back(u, e); }
  void on_completed(std::string const& id, delete_status const& s) override {
    EXPECT_TRUE(s.is_delete_completed);
    completed.insert(id);
  }
  void on_unfinished(std::string const& id, error_details const&) override { unfinished.insert(id); }
  void on_verified(std::string const& u, user_verification const& v) override {
    EXPECT_TRUE(verified.emplace(u, v).second) << "on_verified twice for " << u;
    order.push_back("verified " + u);
  }
  void on_remaining(std::string const& u, std::map<std::string, std::uint64_t> const& items) override {
    remaining[u] = items;
    order.push_back("remaining " + u);
  }
  void on_unverified(std::string const& u, error_details const&) override { unverified.insert(u); }
};

erase_result run_erase(asio::io_context& io, batch_eraser& e, std::vector<std::string> users, recorder& rec) {
  std::optional<erase_result> result;
  int sources = 0;
  e.async_run([&sources, users] { ++sources; return users_from(users); }, rec,
              [&](boost::system::error_code ec, erase_result r) {
                EXPECT_FALSE(ec) << ec.message();
                result = std::move(r);
              });
  io.restart();
  io.run_for(std::chrono::seconds(60));
  if (!result) throw std::runtime_error("the erase did not finish in time");
  // The users are read once to queue them, and once more when verifying.
  EXPECT_EQ(sources, e.stats().at == erase_stats::phase::done && result->stats.users_verified + result->stats.users_unverified > 0 ? 2 : 1);
  return *result;
}

TEST(BatchErase, QueuesInBatchesWaitsAndVerifiesNothingIsLeft) {
  mock::server srv(erase_data(10));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_eraser e(c, {.organization_id = srv.organization_id(), .batch_size = 3, .concurrency = 2,
                     .verify = true, .poll_interval = 20ms});
  auto const all = srv.user_ids();
  std::vector<std::string> const users(all.begin(), all.begin() + 7);
  recorder rec;
  auto const r = run_erase(io, e, users, rec);
  EXPECT_EQ(r.how, erase_result::end::complete);
  EXPECT_TRUE(r.clean());
  ASSERT_EQ(rec.queued.size(), 3u);  // 3 + 3 + 1
  std::set<std::string> in_jobs;
  for (auto const& [u, id] : rec.queued) {
    EXPECT_LE(u.size(), 3u);
    in_jobs.insert(u.begin(), u.end());
    EXPECT_TRUE(rec.completed.contains(id)) << id;
  }
  EXPECT_EQ(in_jobs, std::set<std::string>(users.begin(), users.end()));
  EXPECT_EQ(r.stats.users, 7u);
  EXPECT_EQ(r.stats.jobs_completed, 3u);
  EXPECT_EQ(r.stats.users_verified, 7u);
  EXPECT_EQ(r.stats.users_with_data, 0u);
  EXPECT_EQ(r.stats.at, erase_stats::phase::done);
  EXPECT_TRUE(rec.remaining.empty());
  // Every user verified clean: one page each (an empty export), no items.
  ASSERT_EQ(rec.verified.size(), 7u);
  for (auto const& u : users) {
    ASSERT_TRUE(rec.verified.contains(u)) << u;
    EXPECT_EQ(rec.verified[u].pages, 1u) << u;
    EXPECT_EQ(rec.verified[u].items, 0u) << u;
    EXPECT_TRUE(rec.verified[u].items_by_feature.empty()) << u;
  }
}

TEST(BatchErase, AFailedCallIsNeverResentAndItsUsersShowDataLeft) {
  mock::server srv(erase_data(6));
  auto const users = srv.user_ids();
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = 500;
  f.endpoint = wire::endpoint::delete_user_data;
  f.user_id = users[4];
  srv.add_fault(f);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_eraser e(c, {.organization_id = srv.organization_id(), .batch_size = 2, .concurrency = 3,
                     .verify = true, .poll_interval = 20ms});
  recorder rec;
  auto const r = run_erase(io, e, users, rec);
  EXPECT_EQ(r.how, erase_result::end::complete);
  EXPECT_FALSE(r.clean());
  ASSERT_EQ(rec.not_queued.size(), 1u);
  auto const& [failed_users, err] = rec.not_queued[0];
  EXPECT_EQ(err.http_status, 500u);
  EXPECT_EQ(err.delivery, delivery::answered);
  EXPECT_TRUE(may_have_taken_effect(err));  // a 500 does not say nothing was queued
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 3u);  // never resent
  EXPECT_EQ(r.stats.batches_failed, 1u);
  EXPECT_EQ(r.stats.jobs_completed, 2u);
  // The users of the failed call still have data; verification says so, and only for them.
  EXPECT_FALSE(rec.remaining.empty());
  for (auto const& [u, items] : rec.remaining) {
    EXPECT_TRUE(std::find(failed_users.begin(), failed_users.end(), u) != failed_users.end()) << u;
    EXPECT_FALSE(items.empty());
  }
  EXPECT_EQ(r.stats.users_with_data, rec.remaining.size());
  EXPECT_EQ(r.stats.users_verified, 6u);
  // on_verified for every user exported to the end, clean or not; for a user with data,
  // before its on_remaining, with the same counts.
  EXPECT_EQ(rec.verified.size(), 6u);
  for (auto const& [u, v] : rec.verified) {
    EXPECT_GE(v.pages, 1u) << u;
    auto const left = rec.remaining.find(u);
    if (left == rec.remaining.end()) {
      EXPECT_EQ(v.items, 0u) << u;
      continue;
    }
    EXPECT_EQ(v.items_by_feature, left->second) << u;
    std::uint64_t total = 0;
    for (auto const& [feature, n] : left->second) total += n;
    EXPECT_EQ(v.items, total) << u;
    std::uint64_t on_server = 0;
    for (auto const& m : srv.expected_export(u)) on_server += m.value().as_array().size();
    EXPECT_EQ(v.items, on_server) << u;
    EXPECT_EQ(v.pages, srv.expected_pages(u)) << u;
    auto const verified_at = std::find(rec.order.begin(), rec.order.end(), "verified " + u);
    auto const remaining_at = std::find(rec.order.begin(), rec.order.end(), "remaining " + u);
    ASSERT_NE(remaining_at, rec.order.end()) << u;
    EXPECT_LT(verified_at, remaining_at) << u << ": on_verified must come before on_remaining";
  }
}

TEST(BatchErase, ARefusalBeforeAnyJobStopsTheRun) {
  mock::server srv(erase_data(8));
  asio::io_context io;
  auto o = options_for(srv);
  o.api_key = "revoked";
  velt::client c(io.get_executor(), o);
  batch_eraser e(c, {.organization_id = srv.organization_id(), .batch_size = 2, .concurrency = 1, .wait = true});
  recorder rec;
  auto const r = run_erase(io, e, srv.user_ids(), rec);
  EXPECT_EQ(r.how, erase_result::end::credentials_refused);
  EXPECT_EQ(r.error.status, status::permission_denied);
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
  EXPECT_TRUE(rec.queued.empty());
}

TEST(BatchErase, CancellationStopsTheWaitPromptly) {
  auto so = erase_data(4);
  so.delete_tasks = 5;
  so.delete_task_duration = 10s;  // jobs that do not complete within the test
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  batch_eraser e(c, {.organization_id = srv.organization_id(), .batch_size = 2, .concurrency = 2,
                     .wait = true, .poll_interval = 50ms});
  recorder rec;
  asio::cancellation_signal cancel;
  std::optional<erase_result> result;
  e.async_run([&] { return users_from(srv.user_ids()); }, rec,
              asio::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code, erase_result r) { result = r; }));
  asio::steady_timer t(io, 300ms);
  t.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  auto const started = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(result);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(result->how, erase_result::end::stopped);
  EXPECT_EQ(result->stats.jobs_queued, 2u);
  EXPECT_TRUE(rec.unfinished.empty());  // a stopped wait is not "unfinished"
  EXPECT_TRUE(rec.completed.empty());
}

TEST(BatchErase, VerificationSendsTheRequestExtraDeletionsDoNot) {
  auto o = erase_data(6);
  o.recorded_requests = 1000;
  mock::server srv(o);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  boost::json::object const extra{{"veltAllOrganizations", true}, {"uniqueId", "u-1"}};
  batch_eraser e(c, {.organization_id = srv.organization_id(), .batch_size = 4, .verify = true,
                     .poll_interval = 20ms, .request_extra = extra});
  auto const users = srv.user_ids();
  recorder rec;
  auto const r = run_erase(io, e, users, rec);
  EXPECT_EQ(r.how, erase_result::end::complete);
  EXPECT_EQ(r.stats.users_verified, users.size());
  std::size_t gets = 0, deletes = 0;
  for (auto const& req : srv.recent_requests()) {
    if (req.endpoint == wire::endpoint::get_user_data) {
      ++gets;
      for (auto const& [key, value] : extra) EXPECT_EQ(req.data.at(key), value) << req.data;
    } else {
      if (req.endpoint == wire::endpoint::delete_user_data) ++deletes;
      EXPECT_FALSE(req.data.contains("uniqueId")) << req.data;
    }
  }
  EXPECT_EQ(gets, users.size());  // one (empty) page each after the deletion
  EXPECT_EQ(deletes, 2u);
}

TEST(BatchErase, InvalidOptionsAreRefused) {
  asio::io_context io;
  velt::client c = offline_client(io);
  auto refused = [&](erase_options eo, std::string const& field) {
    expect_refused([&] { batch_eraser e(c, std::move(eo)); }, field);
  };
  refused({}, "organization_id");
  refused({.organization_id = "o", .batch_size = 0}, "batch_size");
  refused({.organization_id = "o", .concurrency = 0}, "concurrency");
  refused({.organization_id = "o", .poll_interval = 0ms}, "poll_interval");
  refused({.organization_id = "o", .request_extra = {{"userId", "x"}}},
          "erase_options::request_extra.userId is reserved");
}

}  // namespace
}  // namespace velt::test::batch
