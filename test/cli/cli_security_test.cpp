// SPDX-License-Identifier: BSL-1.0
// Credentials: where they come from, refused credentials stop the run, and the secrets
// never appear in stdout, stderr, the report, the files or the logs.
#include "cli_support.hpp"

namespace velt::test::cli {
namespace {

/// Every file under `dir`, recursively, concatenated.
std::string everything_under(fs::path const& dir) {
  std::string all;
  for (auto const& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += read_text(e.path());
  }
  return all;
}

void expect_no_secret(std::string const& where, std::string const& text) {
  EXPECT_EQ(text.find(secret_api_key), std::string::npos) << "API key in " << where;
  EXPECT_EQ(text.find(secret_auth_token), std::string::npos) << "auth token in " << where;
}

TEST(CliCredentials, MissingCredentialsExitTwoBeforeAnyIo) {
  mock::server srv(small_server(2));
  temp_dir dir;
  auto const args = export_command(srv, dir / "out", {"--user", srv.user_ids()[0]});
  auto const none = run(args, {});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("VELT_API_KEY"), std::string::npos) << none.err;
  auto const no_token = run(args, {"VELT_API_KEY=" + srv.api_key()});
  EXPECT_EQ(no_token.code, 2);
  EXPECT_NE(no_token.err.find("VELT_AUTH_TOKEN"), std::string::npos) << no_token.err;
  auto const empty = run(args, {"VELT_API_KEY=", "VELT_AUTH_TOKEN=x"});
  EXPECT_EQ(empty.code, 2);
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_FALSE(fs::exists(dir / "out"));  // nothing created
  EXPECT_EQ(run(erase_command(srv, dir, {"--user", "u"}), {}).code, 2);
  EXPECT_EQ(run(command("erase-status", srv, {"job"}), {}).code, 2);
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(CliCredentials, SecretsOnTheCommandLineAreRefusedWithoutEchoingThem) {
  mock::server srv(small_server(2));
  temp_dir dir;
  for (std::string const opt : {"--api-key", "--auth-token"}) {
    for (bool with_equals : {false, true}) {
      auto args = export_command(srv, dir / "out", {"--user", "u"});
      if (with_equals) {
        args.push_back(opt + "=" + secret_api_key);
      } else {
        args.push_back(opt);
        args.push_back(secret_api_key);
      }
      auto const r = run(args, credentials_env(srv));
      EXPECT_EQ(r.code, 2) << opt;
      EXPECT_NE(r.err.find("not accepted"), std::string::npos) << r.err;
      expect_no_secret("stderr", r.err);
      expect_no_secret("stdout", r.out);
    }
  }
  // A mistyped option is named, its value is not repeated.
  for (std::vector<std::string> typo : {std::vector<std::string>{std::string("--apikey=") + secret_api_key},
                                        std::vector<std::string>{"--apikey", secret_api_key}}) {
    auto args = export_command(srv, dir / "out", {"--user", "u"});
    args.insert(args.end(), typo.begin(), typo.end());
    auto const r = run(args, credentials_env(srv));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--apikey"), std::string::npos) << r.err;
    expect_no_secret("stderr", r.err);
  }
  // Before the subcommand too.
  auto const top = run({VELT_GDPR_BINARY, "--api-key", secret_api_key, "export"}, {});
  EXPECT_EQ(top.code, 2);
  expect_no_secret("stderr", top.err);
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(CliCredentials, CredentialFilesWork) {
  mock::server srv(small_server(3));
  temp_dir dir;
  write_text(dir / "key", srv.api_key() + "\n");
  write_text(dir / "token", srv.auth_token() + "\r\n");
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, srv.user_ids()).string(), "--api-key-file",
                                     (dir / "key").string(), "--auth-token-file", (dir / "token").string()}),
                     {"VELT_API_KEY=wrong", "VELT_AUTH_TOKEN=wrong"});  // the files win
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir / "out", srv.user_ids());
  auto const missing = run(export_command(srv, dir / "out2", {"--user", "u", "--api-key-file", (dir / "nope").string()}),
                           credentials_env(srv));
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--api-key-file"), std::string::npos) << missing.err;
}

void expect_refusal_stops_the_run(std::vector<std::string> env, std::string const& status) {
  auto so = small_server(40);
  mock::server srv(so);
  temp_dir dir;
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, srv.user_ids()).string(), "--concurrency", "8"}),
                     env);
  EXPECT_EQ(r.code, 2) << r.err;
  // One clear message, not one per user.
  std::size_t count = 0;
  for (auto at = r.err.find("refused the credentials"); at != std::string::npos;
       at = r.err.find("refused the credentials", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << r.err;
  EXPECT_NE(r.err.find(status), std::string::npos) << r.err;
  EXPECT_LE(srv.stats().requests, 8u);  // at most the first wave
  EXPECT_EQ(exported_files(dir / "out"), 0u);
  auto const report = report_of(dir / "out");
  EXPECT_EQ(report.at("state"), "stopped");
  EXPECT_EQ(report.at("error").at("status"), boost::json::value(status));
  EXPECT_EQ(users_count(report, "failed"), 0u);
  expect_no_secret("stderr", r.err);
  expect_no_secret("report", read_text(dir / "out" / "report.json"));
}

TEST(CliCredentials, WrongApiKeyStopsTheRunWithOneMessage) {
  expect_refusal_stops_the_run({"VELT_API_KEY=wrong-key", std::string("VELT_AUTH_TOKEN=") + secret_auth_token},
                               "PERMISSION_DENIED");
}

TEST(CliCredentials, WrongAuthTokenStopsTheRunWithOneMessage) {
  expect_refusal_stops_the_run({std::string("VELT_API_KEY=") + secret_api_key, "VELT_AUTH_TOKEN=wrong-token"},
                               "UNAUTHENTICATED");
}

TEST(CliCredentials, SecretsNeverInOutputReportFilesOrLogs) {
  auto so = small_server(8);
  mock::server srv(so);
  auto const users = srv.user_ids();
  mock::fault throttle;
  throttle.kind = mock::fault_kind::resource_exhausted;
  throttle.probability = 0.3;
  throttle.retry_after = "";
  throttle.max_times = 4;
  srv.add_fault(throttle);
  mock::fault broken;
  broken.kind = mock::fault_kind::http_error_json;
  broken.http_status = 500;
  broken.user_id = users[1];
  srv.add_fault(broken);
  temp_dir dir;
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, users).string(), "--log-level", "debug",
                                     "--max-attempts", "3", "--checkpoint", "0"}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("debug"), std::string::npos);  // the logs were on
  expect_no_secret("stdout", r.out);
  expect_no_secret("stderr", r.err);
  expect_no_secret("the output directory", everything_under(dir / "out"));

  auto const erase = run(erase_command(srv, dir, {"--user", users[0], "--wait", "--verify", "--poll-interval", "0.05",
                                                "--log-level", "debug"}),
                         credentials_env(srv));
  expect_no_secret("erase stdout", erase.out);
  expect_no_secret("erase's audit log", read_text(dir / "audit.jsonl"));
  expect_no_secret("erase stderr", erase.err);
  auto const demo = run({VELT_GDPR_BINARY, "demo", "--users", "3", "--out", (dir / "demo").string(), "--progress",
                         "never"},
                        {});
  EXPECT_EQ(demo.code, 0) << demo.err;
  EXPECT_EQ(demo.out.find("test-api-key"), std::string::npos);  // the embedded server's key
  EXPECT_EQ(demo.err.find("test-api-key"), std::string::npos);
  EXPECT_EQ(demo.out.find("test-auth-token"), std::string::npos);
}

}  // namespace
}  // namespace velt::test::cli
