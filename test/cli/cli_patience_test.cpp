// SPDX-License-Identifier: BSL-1.0
// velt-gdpr export waits out throttling and outages, and tells refused users from refused
// credentials (issue 13), against the local server's models of real limits.
#include "cli_support.hpp"

#include <thread>

namespace velt::test::cli {
namespace {

using namespace std::chrono_literals;

TEST(CliPatience, ARateLimitedServerGetsEveryUserAtDefaultSettings) {
  auto o = small_server(60);
  o.rate = mock::rate_limit{.per_second = 40, .burst = 5, .answer = mock::rate_limit_answer::plain};
  mock::server srv(o);
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const r = run(export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string()}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(srv.stats().refused_rate, 0u);  // the limit was met
  expect_exact_export(srv, dir / "out", users);
  EXPECT_NE(r.out.find("throttled"), std::string::npos) << r.out;
}

TEST(CliPatience, AnOutageLongerThanMaxStallStopsWithExitThreeAndARerunCompletes) {
  auto o = small_server(10);
  o.outage = mock::outage_window{.start = 0ms, .duration = 3s, .mode = mock::outage_mode::html503};
  mock::server srv(o);
  auto const began = std::chrono::steady_clock::now();
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const args = export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string(), "--max-stall", "1s"});
  auto const r = run(args, credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("no progress for 1.0 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("503"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("rerun the same command to resume"), std::string::npos) << r.out;
  auto const report = report_of(dir / "out");
  EXPECT_EQ(report.at("state"), "stopped");
  EXPECT_EQ(users_count(report, "failed"), 0u);  // not done is not failed

  std::this_thread::sleep_for(3100ms - (std::chrono::steady_clock::now() - began));
  auto const again = run(args, credentials_env(srv));
  ASSERT_EQ(again.code, 0) << again.err;
  expect_exact_export(srv, dir / "out", users);
}

TEST(CliPatience, UsersRefusedOneByOneFailAloneAndARerunDoesNotBlameTheCredentials) {
  mock::server srv(small_server(8));
  auto const users = srv.user_ids();
  mock::fault denied;
  denied.kind = mock::fault_kind::http_error_json;
  denied.http_status = 403;  // PERMISSION_DENIED for this user only
  denied.user_id = users[6];
  srv.add_fault(denied);
  mock::fault invalid = denied;
  invalid.http_status = 400;  // INVALID_ARGUMENT
  invalid.user_id = users[7];
  srv.add_fault(invalid);
  temp_dir dir;
  auto const args = export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string()});
  auto const first = run(args, credentials_env(srv));
  EXPECT_EQ(first.code, 3) << first.err;
  EXPECT_EQ(users_count(report_of(dir / "out"), "ok"), 6u);

  // The rerun meets only the two refused users: a user exported before, fetched again,
  // shows that the credentials work.
  auto const again = run(args, credentials_env(srv));
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_EQ(again.err.find("credentials"), std::string::npos) << again.err;
  auto const report = report_of(dir / "out");
  EXPECT_EQ(users_count(report, "failed"), 2u);
  EXPECT_EQ(users_count(report, "skipped"), 6u);
}

}  // namespace
}  // namespace velt::test::cli
