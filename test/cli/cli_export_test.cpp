// SPDX-License-Identifier: BSL-1.0
// velt-gdpr export, run as a user runs it, against the local server over TLS on loopback.
#include "cli_support.hpp"

#include "core/shard.hpp"

#include <velt/version.hpp>

#include <sys/file.h>

#include <fcntl.h>

namespace velt::test::cli {
namespace {

TEST(CliExport, ExportsEveryUserExactly) {
  auto so = small_server(12);
  so.data.unusual_user_ids = 8;  // spaces, Unicode, '/', '%', quotes, backslash
  mock::server srv(so);
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const r = run(export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string()}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir / "out", users);

  auto const report = report_of(dir / "out");
  EXPECT_EQ(report.at("organizationId"), boost::json::value(srv.organization_id()));
  EXPECT_EQ(report.at("state"), "complete");
  EXPECT_EQ(users_count(report, "ok"), users.size());
  EXPECT_EQ(users_count(report, "failed"), 0u);
  EXPECT_EQ(users_count(report, "skipped"), 0u);
  EXPECT_TRUE(report.at("failures").as_array().empty());
  EXPECT_TRUE(report.at("finishedAt").is_string());
  EXPECT_NE(r.out.find("exported " + std::to_string(users.size()) + " users"), std::string::npos) << r.out;

  // Personal data: directories 0700, files 0600; nothing left but the files and the report.
  EXPECT_EQ(mode_of(dir / "out"), 0700u);
  EXPECT_EQ(mode_of(dir / "out" / "users"), 0700u);
  EXPECT_EQ(mode_of(dir / "out" / "report.json"), 0600u);
  for (auto const& [name, content] : files_in(dir / "out" / "users")) {
    EXPECT_EQ(mode_of(dir / "out" / "users" / name), 0600u) << name;
  }
  EXPECT_EQ(mode_of(dir / "out" / "audit.jsonl"), 0600u);
  for (auto const& [name, content] : files_in(dir / "out")) {
    EXPECT_TRUE(name == "users" || name == "report.json" || name == "audit.jsonl" || name == ".velt-gdpr.lock")
        << name;
  }
}

TEST(CliExport, UsersFileEdgeCases) {
  mock::server srv(small_server(6));
  temp_dir dir;
  auto const ids = srv.user_ids();
  write_text(dir / "users.txt", "# users to export\n" + ids[0] + "\n\n   " + ids[1] + "   \r\n" + ids[2] +
                                    "\r\n" + ids[0] + "\n\t# indented comment\n \t \n" + ids[3] + "\t\n" + ids[4]);
  auto args = export_command(srv, dir / "out",
                             {"--users-file", (dir / "users.txt").string(), "--user", ids[1], "--user", ids[5]});
  *std::find(args.begin(), args.end(), "never") = "auto";  // stderr is a pipe: plain lines
  auto const r = run(args, credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir / "out", ids);  // all six, each once
  EXPECT_EQ(users_count(report_of(dir / "out"), "ok"), 6u);
  // The total counts 8 ids, of which the reader skipped 2 duplicates: the final state says
  // 6 of 6, not 6 of 8.
  EXPECT_NE(r.err.find("users 6/6 | "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/8 | "), std::string::npos) << r.err;
  for (auto const& id : ids) EXPECT_EQ(srv.stats().requests_for(id, 0), 1u) << id;
}

TEST(CliExport, UsersFromStandardInputAndLargeConcurrency) {
  mock::server srv(small_server(5));
  temp_dir dir;
  auto const file = users_file(dir, srv.user_ids());
  // A pipe as the users file: `sh -c 'cat FILE | velt-gdpr ... --users-file -'`.
  std::string cmd = "cat '" + file.string() + "' | '" VELT_GDPR_BINARY "' export --org " + srv.organization_id() +
                    " --base-url " + srv.url() + " --ca-file '" + srv.ca_file().string() + "' --out '" +
                    (dir / "out").string() + "' --users-file - --concurrency 500 --progress never";
  auto const r = run({"/bin/sh", "-c", cmd}, credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir / "out", srv.user_ids());
}

TEST(CliExport, UnusableIdsAreReportedNotDropped) {
  mock::server srv(small_server(3));
  temp_dir dir;
  auto const ids = srv.user_ids();
  write_text(dir / "users.txt", ids[0] + "\nbad-\xFF\xFE-utf8\n" + std::string(5000, 'z') + "\n" + ids[1] + "\n" + ids[2] + "\n");
  auto const r = run(export_command(srv, dir / "out", {"--users-file", (dir / "users.txt").string()}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  expect_exact_export(srv, dir / "out", ids);
  auto const report = report_of(dir / "out");
  EXPECT_EQ(users_count(report, "ok"), 3u);
  EXPECT_EQ(users_count(report, "failed"), 2u);
  for (auto const& f : report.at("failures").as_array()) {
    EXPECT_EQ(f.at("status"), "INVALID_ARGUMENT") << f;
    EXPECT_EQ(f.at("attempts"), 0) << f;  // refused before any request
  }
  std::uint64_t pages = 0;
  for (auto const& u : ids) pages += srv.expected_pages(u);
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::get_user_data), pages);  // none for the bad ids
}

TEST(CliExport, SeveralEventLoopThreadsExportExactly) {
  auto so = small_server(16);
  so.threads = 2;
  mock::server srv(so);
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const r = run(export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string(), "--threads",
                                                       "4", "--concurrency", "16", "--checkpoint", "0"}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir / "out", users);
}

TEST(CliExport, HostileIdsGetSafeNames) {
  mock::server srv(small_server(2));
  temp_dir dir;
  std::vector<std::string> const hostile = {"../x", "a/b", ".", "..", ".hidden", "%41", "~",
                                            "usér-ünï-😀", std::string(300, 'x'), std::string(300, 'x') + "y"};
  std::vector<std::string> args;
  for (auto const& id : hostile) {
    args.push_back("--user");
    args.push_back(id);
  }
  auto const r = run(export_command(srv, dir / "out", args), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  // Unknown users have one empty page: each file exists, under a safe name, inside users/.
  expect_exact_export(srv, dir / "out", hostile);
  std::map<std::string, std::string> const want = {
      {"%2E.%2Fx.json", "../x"}, {"a%2Fb.json", "a/b"}, {"%2E.json", "."}, {"%2E..json", ".."},
      {"%2Ehidden.json", ".hidden"}, {"%2541.json", "%41"}, {"%7E.json", "~"},
      {"us%C3%A9r-%C3%BCn%C3%AF-%F0%9F%98%80.json", "usér-ünï-😀"}};
  auto const files = files_in(dir / "out" / "users");
  EXPECT_EQ(files.size(), hostile.size());
  for (auto const& [name, id] : want) {
    ASSERT_TRUE(files.count(name)) << name;
    EXPECT_EQ(parse_export(dir / "out" / "users" / name).at("userId"), boost::json::value(id));
  }
  for (auto const& [name, content] : files) {
    EXPECT_LE(name.size(), 255u);
    EXPECT_NE(name.front(), '.');
    EXPECT_EQ(name.find('/'), std::string::npos);
  }
  // Nothing escaped the output directory.
  for (auto const& [name, content] : files_in(dir.path())) {
    EXPECT_TRUE(name == "out") << name;
  }
}

TEST(CliExport, ShardsAreDisjointAndComplete) {
  auto so = small_server(24);
  so.data.unusual_user_ids = 8;
  mock::server srv(so);
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const file = users_file(dir, users);
  std::set<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    fs::path const out = dir / ("shard-" + std::to_string(k));
    auto const r = run(export_command(srv, out, {"--users-file", file.string(), "--shard", std::to_string(k) + "/3"}),
                       credentials_env(srv));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(report_of(out).at("shard"), boost::json::value(std::to_string(k) + "/3"));
    for (auto const& [name, content] : files_in(out / "users")) {
      auto const doc = parse_export(out / "users" / name);
      std::string const id(doc.at("userId").as_string());
      EXPECT_EQ(velt::gdpr::fnv1a64(id) % 3, static_cast<std::uint64_t>(k)) << id;
      EXPECT_TRUE(seen.insert(id).second) << id << " in two shards";
    }
  }
  EXPECT_EQ(seen, std::set<std::string>(users.begin(), users.end()));
}

TEST(CliExport, CompleteUsersAreSkippedWithZeroRequests) {
  mock::server srv(small_server(8));
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const args = export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string()});
  ASSERT_EQ(run(args, credentials_env(srv)).code, 0);

  srv.reset_stats();
  auto const again = run(args, credentials_env(srv));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_EQ(users_count(report_of(dir / "out"), "skipped"), users.size());
  EXPECT_EQ(users_count(report_of(dir / "out"), "ok"), 0u);

  // Two files lost: only those two users are fetched again.
  fs::remove(dir / "out" / "users" / velt::gdpr::export_file_name(users[2]));
  fs::remove(dir / "out" / "users" / velt::gdpr::export_file_name(users[5]));
  srv.reset_stats();
  ASSERT_EQ(run(args, credentials_env(srv)).code, 0);
  auto const st = srv.stats();
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i == 2 || i == 5) {
      EXPECT_GT(st.requests_for_user(users[i]), 0u) << users[i];
    } else {
      EXPECT_EQ(st.requests_for_user(users[i]), 0u) << users[i];
    }
  }
  expect_exact_export(srv, dir / "out", users);
}

TEST(CliExport, FailedUserExitsThreeOthersExported) {
  mock::server srv(small_server(6));
  auto const users = srv.user_ids();
  std::size_t victim = 0;
  while (victim < users.size() && srv.expected_pages(users[victim]) < 2) ++victim;
  ASSERT_LT(victim, users.size()) << "the data set needs a user with two pages";
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = 500;  // INTERNAL for this user: not throttling, not an outage
  f.user_id = users[victim];
  f.page_index = 1;  // its second page never comes
  srv.add_fault(f);
  temp_dir dir;
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, users).string(), "--max-attempts", "2"}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  std::vector<std::string> others = users;
  others.erase(others.begin() + static_cast<std::ptrdiff_t>(victim));
  expect_exact_export(srv, dir / "out", others);
  EXPECT_FALSE(fs::exists(dir / "out" / "users" / velt::gdpr::export_file_name(users[victim])));
  auto const report = report_of(dir / "out");
  EXPECT_EQ(users_count(report, "failed"), 1u);
  EXPECT_EQ(users_count(report, "ok"), 5u);
  auto const& failure = report.at("failures").as_array().at(0).as_object();
  EXPECT_EQ(failure.at("userId"), boost::json::value(users[victim]));
  EXPECT_EQ(failure.at("status"), "INTERNAL");
  EXPECT_EQ(failure.at("httpStatus"), 500);
  EXPECT_EQ(failure.at("attempts"), 2);
  EXPECT_NE(failure.at("message").as_string().find("temporary error"), boost::json::string::npos);
  EXPECT_NE(r.out.find("1 users failed"), std::string::npos) << r.out;
  // One line about the failed user, its message said once.
  std::size_t lines = 0;
  for (std::size_t at = r.err.find(users[victim]); at != std::string::npos; at = r.err.find(users[victim], at + 1)) ++lines;
  EXPECT_EQ(lines, 1u) << r.err;
  EXPECT_EQ(r.err.find("attempts, after"), std::string::npos) << r.err;

  // The failed user resumes from its first page's durable progress on the next run.
  srv.clear_faults();
  srv.reset_stats();
  auto const again = run(export_command(srv, dir / "out", {"--users-file", (dir / "users.txt").string()}),
                         credentials_env(srv));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(srv.stats().requests_for(users[victim], 0), 0u);  // page 0 was kept
  expect_exact_export(srv, dir / "out", users);
}

TEST(CliExport, ThrottlingSlowsTheWholeRunAndStaysExact) {
  mock::server srv(small_server(10));
  mock::fault f;
  f.kind = mock::fault_kind::resource_exhausted;
  f.probability = 0.5;
  f.retry_after = "";  // the client's own backoff
  f.max_times = 12;
  f.endpoint = wire::endpoint::get_user_data;
  srv.add_fault(f);
  mock::fault g = f;
  g.kind = mock::fault_kind::throttle_429;  // a gateway's plain-text 429
  g.max_times = 6;
  srv.add_fault(g);
  temp_dir dir;
  auto const users = srv.user_ids();
  auto const r = run(export_command(srv, dir / "out",
                                    {"--users-file", users_file(dir, users).string(), "--concurrency", "8",
                                     "--max-attempts", "20", "--log-level", "info"}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(srv.stats().faults_injected, 0u);
  // The whole run slowed down: its requests are paced to a rate.
  EXPECT_NE(r.err.find("the server is throttling"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pacing requests to"), std::string::npos) << r.err;
  expect_exact_export(srv, dir / "out", users);
  EXPECT_EQ(users_count(report_of(dir / "out"), "ok"), users.size());
}

TEST(CliExport, RateCapsRequestsPerSecond) {
  mock::server srv(small_server(4));
  temp_dir dir;
  auto const users = srv.user_ids();
  std::size_t pages = 0;
  for (auto const& u : users) pages += srv.expected_pages(u);
  auto const start = std::chrono::steady_clock::now();
  auto const r = run(export_command(srv, dir / "out", {"--users-file", users_file(dir, users).string(), "--rate", "20"}),
                     credentials_env(srv));
  auto const took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.code, 0) << r.err;
  // pages - 1 gaps of 50 ms at least.
  EXPECT_GE(took, std::chrono::milliseconds(50 * (pages - 1))) << pages << " pages";
  expect_exact_export(srv, dir / "out", users);
}

TEST(CliExport, UsageErrorsExitTwoBeforeAnyRequest) {
  mock::server srv(small_server(2));
  temp_dir dir;
  auto const env = credentials_env(srv);
  auto const out = dir / "out";
  struct bad_case {
    std::vector<std::string> extra;
    std::string message;
  };
  std::vector<bad_case> const cases = {
      {{}, "no users"},
      {{"--user", "u", "--shard", "3/3"}, "--shard"},
      {{"--user", "u", "--shard", "x"}, "--shard"},
      {{"--users-file", (dir / "missing.txt").string()}, "cannot open the users file"},
      {{"--user", "u", "--exported-at", "yesterday"}, "--exported-at"},
      {{"--user", "u", "--concurrency", "0"}, "--concurrency"},
      {{"--user", "u", "--max-stall", "soon"}, "--max-stall"},
      {{"--user", "u", "--max-stall", "0"}, "--max-stall"},
  };
  for (auto const& c : cases) {
    auto const r = run(export_command(srv, out, c.extra), env);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  // A malformed base URL names the field.
  auto args = export_command(srv, out, {"--user", "u"});
  auto url = std::find(args.begin(), args.end(), srv.url());
  *url = "ftp://example.com";
  auto const r = run(args, env);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("base_url"), std::string::npos) << r.err;
  *url = "http://127.0.0.1:1";
  EXPECT_EQ(run(args, env).code, 2);
  // Unknown options and no subcommand.
  EXPECT_EQ(run({VELT_GDPR_BINARY}, env).code, 2);
  EXPECT_EQ(run({VELT_GDPR_BINARY, "export", "--bogus"}, env).code, 2);
  EXPECT_EQ(run({VELT_GDPR_BINARY, "--help"}, env).code, 0);
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_FALSE(fs::exists(out / "users"));
}

TEST(CliVersion, PrintsTheLibraryVersionAndExitsZero) {
  auto const r = run({VELT_GDPR_BINARY, "--version"}, {});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("velt-gdpr ") + velt::version() + "\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliExport, OutputDirectoryInUseOrOfAnotherOrganization) {
  mock::server srv(small_server(2));
  temp_dir dir;
  fs::create_directories(dir / "out");
  int const fd = ::open((dir / "out" / ".velt-gdpr.lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto const busy = run(export_command(srv, dir / "out", {"--user", "u"}), credentials_env(srv));
  EXPECT_EQ(busy.code, 2);
  EXPECT_NE(busy.err.find("in use by another velt-gdpr run"), std::string::npos) << busy.err;
  ::close(fd);

  ASSERT_EQ(run(export_command(srv, dir / "out", {"--user", "u"}), credentials_env(srv)).code, 0);
  auto args = export_command(srv, dir / "out", {"--user", "u"});
  args[3] = "another-org";
  auto const other = run(args, credentials_env(srv));
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("another organization"), std::string::npos) << other.err;
}

TEST(CliExport, ProgressLinesWhenNotATerminal) {
  mock::server srv(small_server(6));
  temp_dir dir;
  auto args = export_command(srv, dir / "out", {"--users-file", users_file(dir, srv.user_ids()).string(),
                                                "--concurrency", "1"});
  auto p = std::find(args.begin(), args.end(), "never");
  *p = "auto";  // stderr is a pipe: plain lines (every 5 s, and the final state)
  auto const r = run(args, credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("users "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" pages | "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);  // not redrawn

  *std::find(args.begin(), args.end(), "auto") = "always";  // redrawn in place, even on a pipe
  auto const out = std::find(args.begin(), args.end(), (dir / "out").string());
  *out = (dir / "out2").string();
  auto const redrawn = run(args, credentials_env(srv));
  ASSERT_EQ(redrawn.code, 0) << redrawn.err;
  EXPECT_NE(redrawn.err.find("\r"), std::string::npos);
  EXPECT_NE(redrawn.err.find("\x1b[K"), std::string::npos);
}

TEST(CliDemo, ExportsAndVerifiesAgainstTheEmbeddedServer) {
  temp_dir dir;
  auto const r = run({VELT_GDPR_BINARY, "demo", "--users", "20", "--out", (dir / "demo").string(), "--progress", "never"}, {});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("verified   28 of 28 files match"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((dir / "demo" / "users").string()), std::string::npos) << r.out;
  EXPECT_EQ(exported_files(dir / "demo"), 28u);
}

}  // namespace
}  // namespace velt::test::cli
