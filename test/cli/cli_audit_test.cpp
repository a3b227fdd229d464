// SPDX-License-Identifier: BSL-1.0
// velt-gdpr's audit log and erasure receipts (issue 16, design note §9) against the local
// server: what export and erase write, checked with `velt-gdpr audit verify` and, without
// this program, with the real /usr/bin/openssl and coreutils as the README shows.
#include "cli_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>

#include <csignal>
#include <random>

namespace velt::test::cli {
namespace {

namespace json = boost::json;

std::vector<json::object> log_lines(fs::path const& file) {
  std::vector<json::object> out;
  std::istringstream in(read_text(file));
  for (std::string line; std::getline(in, line);) {
    json::error_code ec;
    auto v = json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
    if (!ec && v.is_object()) out.push_back(std::move(v.get_object()));
  }
  return out;
}

std::vector<json::object> events(std::vector<json::object> const& lines, std::string_view name) {
  std::vector<json::object> out;
  for (auto const& l : lines) {
    if (l.at("event").as_string() == name) out.push_back(l);
  }
  return out;
}

std::string str(json::value const& v) { return std::string(v.as_string()); }

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xF];
  }
  return hex;
}

/// `script` run by /bin/sh in `cwd`.
run_result shell(fs::path const& cwd, std::string const& script) {
  return run({"/bin/sh", "-c", "cd '" + cwd.string() + "' && " + script}, {});
}

run_result velt(std::vector<std::string> args) {
  args.insert(args.begin(), VELT_GDPR_BINARY);
  return run(std::move(args), {});
}

bool have_openssl() { return fs::exists("/usr/bin/openssl"); }

/// An export of all of the server's users into `out` (the users file in `dir`).
std::vector<std::string> export_all(mock::server const& srv, temp_dir const& dir, fs::path const& out,
                                    std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), {"--users-file", users_file(dir, srv.user_ids()).string()});
  return export_command(srv, out, extra);
}

/// `keygen --out dir/key.pem`; its fingerprint.
std::string keygen(temp_dir const& dir) {
  auto const r = velt({"keygen", "--out", (dir / "key.pem").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  auto const at = r.out.find("  sha256 ");
  EXPECT_NE(at, std::string::npos) << r.out;
  return at == std::string::npos ? std::string() : r.out.substr(at + 9, 64);
}

TEST(CliAudit, ExportWritesChainWithFileHashes) {
  mock::server srv(small_server(12));
  temp_dir dir;
  fs::path const out = dir / "out";
  auto const r = run(export_all(srv, dir, out), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  fs::path const log = out / "audit.jsonl";
  EXPECT_EQ(mode_of(log), 0600u);
  auto const lines = log_lines(log);
  ASSERT_EQ(lines.size(), 14u);  // run_start, 12 exported, run_end
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].at("seq"), i + 1);
  auto const& start = lines.front();
  EXPECT_EQ(start.at("event"), "run_start");
  EXPECT_EQ(start.at("command"), "export");
  EXPECT_EQ(start.at("organizationId"), json::value(srv.organization_id()));
  EXPECT_EQ(start.at("dir"), json::value(fs::canonical(out).string()));
  EXPECT_EQ(start.at("baseUrl"), json::value(srv.url()));
  std::set<std::string> users;
  for (auto const& e : events(lines, "exported")) {
    std::string const user = str(e.at("userId"));
    users.insert(user);
    EXPECT_EQ(e.at("file"), json::value("users/" + gdpr::export_file_name(user)));
    std::string const content = read_text(out / str(e.at("file")));
    EXPECT_EQ(e.at("sha256"), json::value(sha256_hex(content))) << user;
    EXPECT_EQ(e.at("bytes"), content.size()) << user;
    EXPECT_EQ(e.at("pages"), srv.expected_pages(user)) << user;
    EXPECT_FALSE(e.contains("recovered"));
  }
  auto const all = srv.user_ids();
  EXPECT_EQ(users, std::set<std::string>(all.begin(), all.end()));
  auto const& end = lines.back();
  EXPECT_EQ(end.at("event"), "run_end");
  EXPECT_EQ(end.at("state"), "complete");
  EXPECT_EQ(end.at("exitStatus"), 0);
  EXPECT_EQ(end.at("users"), 12);
  // The head: in report.json and in the summary.
  auto const report = report_of(out);
  ASSERT_TRUE(report.contains("audit")) << json::serialize(report);
  EXPECT_EQ(report.at("audit").at("seq"), 14);
  EXPECT_EQ(report.at("audit").at("h"), end.at("h"));
  EXPECT_EQ(report.at("audit").at("file"), json::value(fs::absolute(log).string()));
  EXPECT_NE(r.out.find("audit: " + fs::absolute(log).string() + " line 14 h=" + str(end.at("h"))), std::string::npos)
      << r.out;
  auto const verify = velt({"audit", "verify", log.string(), "--head", "14:" + str(end.at("h"))});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;

  // A rerun skips every user: no new `exported` line, one more run in the same chain.
  auto const again = run(export_all(srv, dir, out), credentials_env(srv));
  ASSERT_EQ(again.code, 0) << again.err;
  auto const after = log_lines(log);
  ASSERT_EQ(after.size(), 16u);
  EXPECT_EQ(events(after, "exported").size(), 12u);
  EXPECT_EQ(after.back().at("skipped"), 12);
  EXPECT_EQ(after[14].at("prev"), end.at("h"));
}

TEST(CliAudit, ExportRecoversTheLinesAKillLostAfterPublishing) {
  mock::server srv(small_server(12));
  temp_dir dir;
  fs::path const out = dir / "out";
  ASSERT_EQ(run(export_all(srv, dir, out), credentials_env(srv)).code, 0);
  fs::path const log = out / "audit.jsonl";
  // Keep run_start and 5 `exported` lines: as if the run had been killed with 7 files
  // published and their lines still queued (whole lines cut off the end: a valid chain).
  std::string text = read_text(log);
  std::size_t at = 0;
  for (int i = 0; i < 6; ++i) at = text.find('\n', at) + 1;
  write_text(log, text.substr(0, at));
  auto const kept = events(log_lines(log), "exported");
  ASSERT_EQ(kept.size(), 5u);
  auto const r = run(export_all(srv, dir, out), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const lines = log_lines(log);
  auto const recovered = events(std::vector<json::object>(lines.begin() + 6, lines.end()), "exported");
  ASSERT_EQ(recovered.size(), 7u);
  for (auto const& e : recovered) {
    EXPECT_EQ(e.at("recovered"), true);
    EXPECT_EQ(e.at("sha256"), json::value(sha256_hex(read_text(out / str(e.at("file"))))));
    for (auto const& k : kept) EXPECT_NE(k.at("userId"), e.at("userId"));
  }
  EXPECT_EQ(velt({"audit", "verify", log.string()}).code, 0);
}

/// Every file in DIR/users has an `exported` line naming its SHA-256, every such line a
/// published file with that hash.
void expect_every_file_logged(fs::path const& out, std::vector<json::object> const& lines) {
  std::map<std::string, std::set<std::string>> hashes;  // file -> sha256 of its lines
  for (auto const& e : events(lines, "exported")) hashes[str(e.at("file"))].insert(str(e.at("sha256")));
  for (auto const& [name, content] : files_in(out / "users")) {
    auto const it = hashes.find("users/" + name);
    ASSERT_NE(it, hashes.end()) << name << " has no exported line";
    EXPECT_EQ(it->second, std::set<std::string>{sha256_hex(content)}) << name;
  }
  for (auto const& [file, h] : hashes) EXPECT_TRUE(fs::exists(out / file)) << file;
}

TEST(CliAudit, KillNineDuringAppendsVerifiesAfterNextRun) {
  auto so = small_server(80);
  so.data.page_size = 10;
  mock::server srv(so);
  srv.set_latency(std::chrono::milliseconds(3), std::chrono::milliseconds(6));
  temp_dir dir;
  fs::path const out = dir / "out";
  auto const args = export_all(srv, dir, out, {"--checkpoint", "0", "--concurrency", "8"});
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(30, 900);
  int kills = 0;
  for (int attempt = 0; attempt < 12 && kills < 8; ++attempt) {
    process p(args, credentials_env(srv));
    auto const code = p.wait(std::chrono::milliseconds(delay_ms(rng)));
    if (code) break;  // finished before the kill
    p.signal(SIGKILL);
    (void)p.wait(std::chrono::seconds(10));
    ++kills;
    // Whatever the kill left, the log verifies (a torn last line is reported, not hidden).
    if (!fs::exists(out / "audit.jsonl")) continue;  // killed before the log was opened
    auto const v = velt({"audit", "verify", (out / "audit.jsonl").string()});
    EXPECT_TRUE(v.code == 0 || v.out.find("is incomplete (no newline)") != std::string::npos) << v.out << v.err;
  }
  auto const r = run(args, credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const v = velt({"audit", "verify", (out / "audit.jsonl").string()});
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  auto const lines = log_lines(out / "audit.jsonl");
  // A run killed during start-up may not have written its run_start yet.
  EXPECT_LE(events(lines, "run_start").size(), static_cast<std::size_t>(kills) + 1);
  EXPECT_GE(events(lines, "run_end").size(), 1u);
  EXPECT_EQ(exported_files(out), srv.user_ids().size());
  expect_every_file_logged(out, lines);
  std::cout << kills << " kills; " << events(lines, "cut").size() << " torn lines cut; "
            << std::count_if(lines.begin(), lines.end(), [](auto const& l) { return l.contains("recovered"); })
            << " exported lines recovered\n";
}

TEST(CliAudit, ConcurrentShardsShareOneLog) {
  mock::server srv(small_server(40));
  srv.set_latency(std::chrono::milliseconds(2), std::chrono::milliseconds(4));
  temp_dir dir;
  fs::path const log = dir / "shared" / "audit.jsonl";
  process a(export_all(srv, dir, dir / "a", {"--shard", "0/2", "--audit-log", log.string(), "--checkpoint", "0"}),
            credentials_env(srv));
  process b(export_all(srv, dir, dir / "b", {"--shard", "1/2", "--audit-log", log.string(), "--checkpoint", "0"}),
            credentials_env(srv));
  auto const ca = a.wait(std::chrono::seconds(90));
  auto const cb = b.wait(std::chrono::seconds(90));
  ASSERT_EQ(ca.value_or(-1), 0) << a.err();
  ASSERT_EQ(cb.value_or(-1), 0) << b.err();
  auto const v = velt({"audit", "verify", log.string()});
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  auto const lines = log_lines(log);
  EXPECT_EQ(events(lines, "run_start").size(), 2u);
  EXPECT_EQ(events(lines, "run_end").size(), 2u);
  EXPECT_EQ(events(lines, "exported").size(), srv.user_ids().size());
  EXPECT_EQ(lines.size(), srv.user_ids().size() + 4);
  EXPECT_FALSE(fs::exists(dir / "a" / "audit.jsonl"));  // --audit-log replaces the default
}

/// The strings of the users' items that are text (a space in them), not ids.
std::set<std::string> item_texts(mock::server const& srv) {
  auto const users = srv.user_ids();
  std::set<std::string> const ids(users.begin(), users.end());
  std::set<std::string> out;
  std::function<void(json::value const&)> walk = [&](json::value const& v) {
    if (v.is_string()) {
      std::string const s(v.as_string());
      if (s.size() >= 12 && s.find(' ') != std::string::npos && !ids.contains(s)) out.insert(s);
    } else if (v.is_array()) {
      for (auto const& e : v.as_array()) walk(e);
    } else if (v.is_object()) {
      for (auto const& m : v.as_object()) walk(m.value());
    }
  };
  for (auto const& u : users) walk(srv.expected_export(u));
  return out;
}

TEST(CliAudit, NoSecretOrItemContentInLog) {
  mock::server srv(small_server(8));
  auto const texts = item_texts(srv);  // before the erase empties the users
  ASSERT_GT(texts.size(), 20u);
  temp_dir dir;
  fs::path const log = dir / "audit.jsonl";
  std::string const field = R"(uniqueId="Req-Field-Value-7f3e")";
  auto const e = run(export_all(srv, dir, dir / "out", {"--audit-log", log.string(), "--request-field", field}),
                     credentials_env(srv));
  ASSERT_EQ(e.code, 0) << e.err;
  auto const users = srv.user_ids();
  auto const x = run(erase_command(srv, dir, {"--users-file", users_file(dir, users).string(), "--verify",
                                              "--poll-interval", "0.05", "--request-field", field}),
                     credentials_env(srv));
  ASSERT_EQ(x.code, 0) << x.err;
  std::string const bytes = read_text(log);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(secret_api_key), std::string::npos);
  EXPECT_EQ(bytes.find(secret_auth_token), std::string::npos);
  EXPECT_EQ(bytes.find("Req-Field-Value-7f3e"), std::string::npos);
  EXPECT_NE(bytes.find("uniqueId=<redacted>"), std::string::npos);
  for (auto const& t : texts) EXPECT_EQ(bytes.find(t), std::string::npos) << "item text in the log: " << t;
  auto const lines = log_lines(log);
  EXPECT_EQ(events(lines, "run_start").size(), 2u);
  EXPECT_EQ(events(lines, "verified").size(), users.size());
  EXPECT_EQ(velt({"audit", "verify", log.string()}).code, 0);
}

TEST(CliAudit, VerifyExitCodes) {
  mock::server srv(small_server(6));
  temp_dir dir;
  fs::path const out = dir / "out";
  ASSERT_EQ(run(export_all(srv, dir, out), credentials_env(srv)).code, 0);
  fs::path const log = out / "audit.jsonl";
  std::string const good = read_text(log);
  auto const lines = log_lines(log);
  std::string const head = std::to_string(lines.size()) + ":" + str(lines.back().at("h"));
  EXPECT_EQ(velt({"audit", "verify", log.string()}).code, 0);
  EXPECT_EQ(velt({"audit", "verify", log.string(), "--head", head}).code, 0);

  // A byte changed in line 3: exit 1, line 3 named.
  std::string edited = good;
  std::size_t const line3 = edited.find('\n', edited.find('\n') + 1) + 1;
  std::size_t const digit = edited.find("\"sha256\":\"", line3) + 10;
  edited[digit] = edited[digit] == '0' ? '1' : '0';
  fs::path const bad = dir / "edited.jsonl";
  write_text(bad, edited);
  auto const r = velt({"audit", "verify", bad.string()});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(bad.string() + ":3 (byte " + std::to_string(line3) + ")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 3 was changed"), std::string::npos) << r.out;

  // Line 2 deleted: line 2 named. The last line cut off: only --head sees it.
  std::size_t const line2 = good.find('\n') + 1;
  write_text(bad, good.substr(0, line2) + good.substr(line3));
  auto const deleted = velt({"audit", "verify", bad.string()});
  EXPECT_EQ(deleted.code, 1);
  EXPECT_NE(deleted.out.find(":2 (byte"), std::string::npos) << deleted.out;
  write_text(bad, good.substr(0, good.rfind('\n', good.size() - 2) + 1));
  EXPECT_EQ(velt({"audit", "verify", bad.string()}).code, 0);
  EXPECT_EQ(velt({"audit", "verify", bad.string(), "--head", head}).code, 1);
  EXPECT_EQ(velt({"audit", "verify", log.string(), "--head", std::to_string(lines.size()) + ":" + std::string(64, 'a')})
                .code,
            1);

  // An unsigned log checked for signatures: exit 1. Usage errors and unreadable files: 2.
  keygen(dir);
  auto const unsigned_end = velt({"audit", "verify", log.string(), "--public-key", (dir / "key.pem.pub").string()});
  EXPECT_EQ(unsigned_end.code, 1) << unsigned_end.out;
  EXPECT_EQ(velt({"audit", "verify", (dir / "missing.jsonl").string()}).code, 2);
  EXPECT_EQ(velt({"audit", "verify", log.string(), "--head", "x:y"}).code, 2);
  EXPECT_EQ(velt({"audit", "verify", log.string(), "--public-key", (dir / "missing.pub").string()}).code, 2);
  EXPECT_EQ(velt({"audit", "verify"}).code, 2);
  EXPECT_EQ(velt({"receipt", "verify", (dir / "missing.json").string(), "--public-key",
                  (dir / "key.pem.pub").string()}).code,
            2);
  EXPECT_EQ(velt({"receipt", "verify", log.string()}).code, 2);  // --public-key is required
  // keygen never replaces a key.
  std::string const key = read_text(dir / "key.pem");
  EXPECT_EQ(velt({"keygen", "--out", (dir / "key.pem").string()}).code, 2);
  EXPECT_EQ(read_text(dir / "key.pem"), key);
  EXPECT_EQ(mode_of(dir / "key.pem"), 0600u);
  EXPECT_EQ(mode_of(dir / "key.pem.pub"), 0644u);
}

TEST(CliAudit, EraseRequiresAuditLog) {
  mock::server srv(small_server(4));
  temp_dir dir;
  auto const u = srv.user_ids().front();
  auto const none = run(command("erase", srv, {"--user", u}), credentials_env(srv));
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("--audit-log"), std::string::npos) << none.err;
  keygen(dir);
  std::string const key = (dir / "key.pem").string();
  // --receipts needs --verify and --signing-key.
  EXPECT_EQ(run(erase_command(srv, dir, {"--user", u, "--verify", "--receipts", (dir / "r").string()}),
                credentials_env(srv)).code,
            2);
  EXPECT_EQ(run(erase_command(srv, dir, {"--user", u, "--wait", "--signing-key", key, "--receipts",
                                         (dir / "r").string()}),
                credentials_env(srv)).code,
            2);
  // A key readable by others, or a log whose last line was changed: exit 2 before any request.
  fs::permissions(key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto const open_key = run(erase_command(srv, dir, {"--user", u, "--signing-key", key}), credentials_env(srv));
  EXPECT_EQ(open_key.code, 2);
  EXPECT_NE(open_key.err.find("--signing-key"), std::string::npos) << open_key.err;
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write_text(dir / "audit.jsonl", R"({"v":1,"seq":1,"h":"00"})" "\n");
  auto const tampered = run(erase_command(srv, dir, {"--user", u}), credentials_env(srv));
  EXPECT_EQ(tampered.code, 2);
  EXPECT_NE(tampered.err.find("--audit-log"), std::string::npos) << tampered.err;
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_FALSE(fs::exists(dir / "r"));
}

TEST(CliAudit, SigintEndsTheRunWithInterrupted) {
  auto so = small_server(4);
  so.delete_task_duration = std::chrono::milliseconds(3000);
  mock::server srv(so);
  temp_dir dir;
  process p(erase_command(srv, dir, {"--user", srv.user_ids()[0], "--wait", "--poll-interval", "0.1"}),
            credentials_env(srv));
  ASSERT_TRUE(eventually([&] {
    p.pump(std::chrono::milliseconds(10));
    return p.out().find("\"queued\"") != std::string::npos;
  })) << p.err();
  p.signal(SIGINT);
  ASSERT_EQ(p.wait(std::chrono::seconds(10)).value_or(-1), 130) << p.err();
  auto const lines = log_lines(dir / "audit.jsonl");
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(events(lines, "deletion_requested").size(), 1u);
  EXPECT_EQ(lines.back().at("event"), "run_end");
  EXPECT_EQ(lines.back().at("state"), "interrupted");
  EXPECT_EQ(lines.back().at("exitStatus"), 130);
}

/// An erase of `users` in jobs of `batch_size` with --verify, --signing-key dir/key.pem, --receipts dir/receipts.
run_result erase_with_receipts(mock::server const& srv, temp_dir const& dir, std::vector<std::string> const& users,
                               std::string const& batch_size = "2") {
  std::vector<std::string> args{"--users-file", users_file(dir, users).string(), "--batch-size", batch_size, "--verify",
                                "--poll-interval", "0.05", "--signing-key", (dir / "key.pem").string(),
                                "--receipts", (dir / "receipts").string()};
  return run(erase_command(srv, dir, args), credentials_env(srv));
}

TEST(CliAudit, EraseVerifyReceiptsCheckWithOpensslPkeyutl) {
  if (!have_openssl()) GTEST_SKIP() << "/usr/bin/openssl is not installed (scripts/install-deps installs it)";
  mock::server srv(small_server(6));
  auto const all = srv.user_ids();
  std::vector<std::string> const users(all.begin(), all.begin() + 4);
  temp_dir dir;
  std::string const fingerprint = keygen(dir);
  auto const r = erase_with_receipts(srv, dir, users);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("4 receipts written"), std::string::npos) << r.err;
  EXPECT_EQ(mode_of(dir / "receipts"), 0700u);
  // The fingerprint, as the README computes it.
  auto const fp = shell(dir.path(), "openssl pkey -pubin -in key.pem.pub -outform DER | sha256sum");
  ASSERT_EQ(fp.code, 0) << fp.err;
  EXPECT_EQ(fp.out.substr(0, 64), fingerprint);
  std::map<std::string, std::string> job_of;  // user -> job, from the stdout events
  for (std::istringstream in(r.out); !in.eof();) {
    std::string line;
    std::getline(in, line);
    if (line.find("\"queued\"") == std::string::npos) continue;
    auto const q = json::parse(line).as_object();
    for (auto const& u : q.at("userIds").as_array()) job_of[str(u)] = str(q.at("jobId"));
  }
  for (auto const& u : users) {
    std::string const name = gdpr::export_file_name(u);
    ASSERT_TRUE(fs::exists(dir / "receipts" / name)) << u;
    ASSERT_EQ(fs::file_size(dir / "receipts" / (name + ".sig")), 64u) << u;
    // The README's command line, verbatim, with the real openssl.
    auto const check = shell(dir / "receipts", "openssl pkeyutl -verify -pubin -inkey ../key.pem.pub -rawin -in " +
                                                   name + " -sigfile " + name + ".sig");
    EXPECT_EQ(check.code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("Signature Verified Successfully"), std::string::npos) << check.out << check.err;
    std::string const text = read_text(dir / "receipts" / name);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    auto const receipt = json::parse(text).as_object();
    EXPECT_EQ(receipt.at("kind"), "erasure-receipt");
    EXPECT_EQ(receipt.at("userId"), json::value(u));
    EXPECT_EQ(receipt.at("jobId"), json::value(job_of[u]));
    EXPECT_EQ(receipt.at("organizationIds"), (json::array{json::value(srv.organization_id())}));
    EXPECT_EQ(receipt.at("verification").at("items"), 0);
    EXPECT_EQ(receipt.at("keySha256"), json::value(fingerprint));
    auto const v = velt({"receipt", "verify", (dir / "receipts" / name).string(), "--public-key",
                         (dir / "key.pem.pub").string()});
    EXPECT_EQ(v.code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find(": erased (job " + job_of[u]), std::string::npos) << v.out;
  }
  EXPECT_EQ(files_in(dir / "receipts").size(), 2 * users.size());
  // The log: signed, and its run_end checks with the README's sed + openssl recipe.
  fs::path const log = dir / "audit.jsonl";
  auto const lines = log_lines(log);
  EXPECT_EQ(events(lines, "deletion_requested").size(), users.size());
  EXPECT_EQ(events(lines, "deletion_completed").size(), 2u);
  EXPECT_EQ(events(lines, "verified").size(), users.size());
  auto const& end = lines.back();
  ASSERT_EQ(end.at("event"), "run_end");
  EXPECT_EQ(end.at("keySha256"), json::value(fingerprint));
  EXPECT_EQ(lines.front().at("keySha256"), json::value(fingerprint));
  auto const verify = velt({"audit", "verify", log.string(), "--public-key", (dir / "key.pem.pub").string()});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  std::string const n = std::to_string(lines.size());
  auto const recipe = shell(
      dir.path(),
      "export LC_ALL=C; n=" + n + "\n"
      "sed -n \"${n}p\" audit.jsonl | sed -E 's/,\"h\":\"[0-9a-f]{64}\"\\}$/}/' | tr -d '\\n' | sha256sum\n"
      "sed -n \"${n}p\" audit.jsonl | sed -E 's/,\"sig\":\"[A-Za-z0-9+\\/=]{88}\",\"h\":\"[0-9a-f]{64}\"\\}$/}/' \\\n"
      "  | tr -d '\\n' > end.msg\n"
      "sed -n \"${n}p\" audit.jsonl | sed -E 's/.*,\"sig\":\"([A-Za-z0-9+\\/=]{88})\".*/\\1/' | base64 -d > end.sig\n"
      "openssl pkeyutl -verify -pubin -inkey key.pem.pub -rawin -in end.msg -sigfile end.sig\n");
  EXPECT_EQ(recipe.code, 0) << recipe.out << recipe.err;
  EXPECT_EQ(recipe.out.substr(0, 64), str(end.at("h"))) << recipe.out;
  EXPECT_NE(recipe.out.find("Signature Verified Successfully"), std::string::npos) << recipe.out << recipe.err;
}

TEST(CliAudit, ReceiptAnyByteChangedFailsOpensslAndReceiptVerify) {
  if (!have_openssl()) GTEST_SKIP() << "/usr/bin/openssl is not installed (scripts/install-deps installs it)";
  mock::server srv(small_server(3));
  temp_dir dir;
  keygen(dir);
  auto const user = srv.user_ids().front();
  ASSERT_EQ(erase_with_receipts(srv, dir, {user}).code, 0);
  std::string const name = gdpr::export_file_name(user);
  std::string const json_bytes = read_text(dir / "receipts" / name);
  std::string const sig_bytes = read_text(dir / "receipts" / (name + ".sig"));
  auto check = [&](std::string const& j, std::string const& s, std::string const& what) {
    write_text(dir / "t.json", j);
    write_text(dir / "t.json.sig", s);
    auto const o = shell(dir.path(), "openssl pkeyutl -verify -pubin -inkey key.pem.pub -rawin -in t.json "
                                     "-sigfile t.json.sig");
    EXPECT_EQ(o.code, 1) << what << ": " << o.out << o.err;
    auto const v = velt({"receipt", "verify", (dir / "t.json").string(), "--public-key", (dir / "key.pem.pub").string()});
    EXPECT_EQ(v.code, 1) << what << ": " << v.out << v.err;
  };
  check(json_bytes, sig_bytes.substr(0, 63) + std::string(1, static_cast<char>(sig_bytes[63] ^ 1)), "last byte of the signature");
  for (int i = 0; i < 20; ++i) {
    std::size_t const at = i * (json_bytes.size() - 1) / 19;  // first to last byte
    std::string j = json_bytes;
    j[at] = static_cast<char>(j[at] ^ (i % 2 ? 0x01 : 0x20));
    check(j, sig_bytes, "byte " + std::to_string(at) + " of the receipt");
  }
  for (std::size_t at : {0u, 31u, 63u}) {
    std::string s = sig_bytes;
    s[at] = static_cast<char>(s[at] ^ 0x80);
    check(json_bytes, s, "byte " + std::to_string(at) + " of the signature");
  }
  // And the untouched pair passes both.
  write_text(dir / "t.json", json_bytes);
  write_text(dir / "t.json.sig", sig_bytes);
  EXPECT_EQ(velt({"receipt", "verify", (dir / "t.json").string(), "--public-key", (dir / "key.pem.pub").string()}).code, 0);
}

TEST(CliAudit, DataLeftGivesNoReceipt) {
  mock::server srv(small_server(6));
  std::string kept_user;  // a user with data whose deletion call is refused: its data stays
  for (auto const& s : srv.user_summaries()) {
    if (s.items() > 0) kept_user = s.user_id;
  }
  ASSERT_FALSE(kept_user.empty());
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = 400;
  f.endpoint = wire::endpoint::delete_user_data;
  f.user_id = kept_user;
  srv.add_fault(f);
  temp_dir dir;
  keygen(dir);
  auto const users = srv.user_ids();
  auto const r = erase_with_receipts(srv, dir, users, "1");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_FALSE(fs::exists(dir / "receipts" / gdpr::export_file_name(kept_user)));
  EXPECT_FALSE(fs::exists(dir / "receipts" / (gdpr::export_file_name(kept_user) + ".sig")));
  EXPECT_EQ(files_in(dir / "receipts").size(), 2 * (users.size() - 1));
  auto const lines = log_lines(dir / "audit.jsonl");
  bool seen = false;
  for (auto const& v : events(lines, "verified")) {
    if (v.at("userId") != json::value(kept_user)) {
      EXPECT_EQ(v.at("items"), 0);
      continue;
    }
    seen = true;
    EXPECT_GT(v.at("items").to_number<std::uint64_t>(), 0u);
    EXPECT_TRUE(v.at("itemsByFeature").is_object());
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(events(lines, "deletion_failed").size(), 1u);
  EXPECT_EQ(lines.back().at("exitStatus"), 3);
  EXPECT_EQ(lines.back().at("usersWithData"), 1);
}

}  // namespace
}  // namespace velt::test::cli
