// SPDX-License-Identifier: BSL-1.0
// velt-gdpr export interrupted: kill -9 at several moments, SIGINT and SIGTERM, resuming a
// user from its last durable page.
#include "cli_support.hpp"

#include "core/export_journal.hpp"

#include <csignal>

namespace velt::test::cli {
namespace {

constexpr char const* fixed_time = "2026-11-26T10:00:00Z";

/// Every *.json file in `out`/users is complete: byte-identical to the reference run's.
void expect_only_complete_files(fs::path const& out, std::map<std::string, std::string> const& reference) {
  for (auto const& [name, content] : files_in(out / "users")) {
    auto const ref = reference.find(name);
    ASSERT_NE(ref, reference.end()) << "unexpected entry " << name;
    EXPECT_EQ(content, ref->second) << name << " is not the complete export";
  }
  // The report is absent (killed before its first write, which a slow start under a
  // sanitizer allows) or whole JSON (rewritten atomically), never a torn file.
  if (fs::exists(out / "report.json")) {
    EXPECT_FALSE(report_of(out).empty()) << read_text(out / "report.json");
  }
}

TEST(CliResume, KillNineAtSeveralMomentsThenTheSameFiles) {
  mock::server srv(small_server(30));
  srv.set_latency(std::chrono::milliseconds(15), std::chrono::milliseconds(20));
  temp_dir dir;
  auto const file = users_file(dir, srv.user_ids());
  std::vector<std::string> const extra = {"--users-file", file.string(), "--exported-at", fixed_time,
                                          "--checkpoint", "0", "--concurrency", "4"};

  ASSERT_EQ(run(export_command(srv, dir / "reference", extra), credentials_env(srv)).code, 0);
  auto const reference = files_in(dir / "reference" / "users");
  ASSERT_EQ(reference.size(), 30u);

  fs::path const out = dir / "out";
  for (std::size_t files_before_kill : {0u, 4u, 12u, 25u}) {
    process p(export_command(srv, out, extra), credentials_env(srv));
    if (files_before_kill == 0) {
      std::this_thread::sleep_for(100ms);  // in the first requests
    } else {
      ASSERT_TRUE(eventually([&] { return exported_files(out) >= files_before_kill; })) << p.err();
    }
    p.signal(SIGKILL);
    ASSERT_EQ(p.wait(), 128 + SIGKILL);
    expect_only_complete_files(out, reference);
  }
  srv.reset_stats();
  auto const last = run(export_command(srv, out, extra), credentials_env(srv));
  ASSERT_EQ(last.code, 0) << last.err;
  EXPECT_EQ(files_in(out / "users"), reference);  // exactly the uninterrupted run's bytes
  expect_exact_export(srv, out, srv.user_ids());
  EXPECT_TRUE(files_in(out / ".partial").empty());
  auto const report = report_of(out);
  EXPECT_EQ(users_count(report, "ok") + users_count(report, "skipped"), 30u);
}

TEST(CliResume, AUserContinuesFromItsLastDurablePage) {
  auto so = small_server(1);
  so.data.heavy_users = 1;
  so.data.heavy_items = 500;  // about 15 pages of 40
  mock::server srv(so);
  srv.set_latency(std::chrono::milliseconds(40), std::chrono::milliseconds(0));
  auto const user = srv.user_ids().at(0);
  std::size_t const pages = srv.expected_pages(user);
  ASSERT_GE(pages, 10u);
  temp_dir dir;
  std::vector<std::string> const extra = {"--user", user, "--exported-at", fixed_time, "--checkpoint", "0"};
  ASSERT_EQ(run(export_command(srv, dir / "reference", extra), credentials_env(srv)).code, 0);
  auto const reference = files_in(dir / "reference" / "users");

  fs::path const out = dir / "out";
  fs::path const journal = out / ".partial" / velt::gdpr::encode_user_id(user) / "journal.json";
  std::uint64_t saved = 0;
  {
    process p(export_command(srv, out, extra), credentials_env(srv));
    ASSERT_TRUE(eventually([&] {
      auto j = velt::gdpr::parse_journal(read_text(journal));
      saved = j ? j->pages : 0;
      return saved >= 5;
    })) << p.err();
    p.signal(SIGKILL);
    ASSERT_EQ(p.wait(), 128 + SIGKILL);
  }
  EXPECT_EQ(exported_files(out), 0u);

  srv.reset_stats();
  auto const r = run(export_command(srv, out, extra), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const st = srv.stats();
  EXPECT_EQ(st.requests_for(user, 0), 0u);  // not started over
  EXPECT_LE(st.requests_for_user(user), pages - saved);
  EXPECT_EQ(files_in(out / "users"), reference);
  EXPECT_FALSE(fs::exists(journal));
}

void interrupt_and_resume(int sig) {
  mock::server srv(small_server(30));
  srv.set_latency(std::chrono::milliseconds(60), std::chrono::milliseconds(20));
  temp_dir dir;
  auto const file = users_file(dir, srv.user_ids());
  fs::path const out = dir / "out";
  auto const args = export_command(srv, out, {"--users-file", file.string(), "--concurrency", "4"});
  {
    process p(args, credentials_env(srv));
    ASSERT_TRUE(eventually([&] { return exported_files(out) >= 3; })) << p.err();
    auto const sent = std::chrono::steady_clock::now();
    p.signal(sig);
    auto const code = p.wait(10s);
    ASSERT_TRUE(code) << "no exit after the signal";
    EXPECT_EQ(*code, 128 + sig) << p.err();
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 5s);
    EXPECT_NE(p.err().find(sig == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos) << p.err();
    EXPECT_NE(p.out().find("interrupted"), std::string::npos) << p.out();
  }
  auto const report = report_of(out);
  EXPECT_EQ(report.at("state"), "interrupted");
  EXPECT_TRUE(report.at("finishedAt").is_string());
  std::size_t const done = exported_files(out);
  EXPECT_EQ(users_count(report, "ok"), done);
  EXPECT_LT(done, 30u);
  for (auto const& [name, content] : files_in(out / "users")) {
    auto const doc = parse_export(out / "users" / name);
    ASSERT_FALSE(doc.empty()) << name;
    EXPECT_TRUE(export_matches(srv, out, std::string(doc.at("userId").as_string())));
  }
  auto const again = run(args, credentials_env(srv));
  ASSERT_EQ(again.code, 0) << again.err;
  expect_exact_export(srv, out, srv.user_ids());
  EXPECT_EQ(users_count(report_of(out), "skipped"), done);
}

TEST(CliResume, SigintStopsWritesTheReportAndExits130) { interrupt_and_resume(SIGINT); }
TEST(CliResume, SigtermStopsWritesTheReportAndExits143) { interrupt_and_resume(SIGTERM); }

}  // namespace
}  // namespace velt::test::cli
