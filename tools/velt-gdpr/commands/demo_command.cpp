// SPDX-License-Identifier: BSL-1.0
// velt-gdpr demo: the export of `velt-gdpr export`, against the local Velt-compatible
// server started in-process, with every file checked against the server's ground truth.
#include "commands/commands.hpp"

#include "core/exit_code.hpp"
#include "core/export_check.hpp"
#include "core/exporter.hpp"
#include "core/file_name.hpp"
#include "core/time_format.hpp"

#include <velt/mock/server.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace velt::gdpr::cli {

namespace fs = std::filesystem;

CLI::App* add_demo_command(CLI::App& app, demo_cli& o) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Start the local Velt-compatible server in-process (TLS with a generated CA, a generated "
      "data set), export every user with the code of `export`, check every file against the "
      "server's data, and print a summary. No credentials needed.");
  cmd->add_option("--users", o.users, "Users in the generated data set (plus 8 with unusual ids)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cmd->add_option("--out", o.out_dir, "Output directory (default: a new one under $TMPDIR or /tmp)");
  cmd->add_option("--concurrency", o.concurrency, "Users exported at once")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{4096}));
  cmd->add_option("--progress", o.progress, "auto, always or never")
      ->capture_default_str()->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--seed", o.seed, "Seed of the generated data set")->capture_default_str();
  cmd->add_option("--server-threads", o.server_threads, "Threads of the embedded server")
      ->capture_default_str()->check(CLI::Range(1u, 64u));
  cmd->add_option("--threads", o.threads, "Threads running the client's event loop")
      ->capture_default_str()->check(CLI::Range(1u, 64u));
  return cmd;
}

namespace {
fs::path make_demo_dir() {
  char const* tmp = std::getenv("TMPDIR");
  std::string templ = (fs::path(tmp && *tmp ? tmp : "/tmp") / "velt-gdpr-demo-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("cannot create a directory under " + fs::path(templ).parent_path().string());
  }
  return templ;
}
}  // namespace

int run_demo_command(demo_cli const& o) {
  console con(*parse_progress_mode(o.progress), velt::log_level::warning);

  mock::server_options so;
  so.threads = o.server_threads;
  so.data.seed = o.seed;
  so.data.users = o.users;
  so.data.min_items = 0;
  so.data.max_items = 60;   // moderate: about 120 items (~200 KB) per user
  so.page_cache_bytes = std::size_t{16} << 20;  // each page is served once: little to cache
  so.data.heavy_users = std::min<std::size_t>(2, o.users);
  so.data.extra_feature = true;      // an undocumented feature, kept like the others
  so.data.unusual_user_ids = 8;      // spaces, Unicode, '/', '%', quotes
  std::optional<mock::server> srv;
  fs::path out;
  try {
    out = o.out_dir.empty() ? make_demo_dir() : fs::path(o.out_dir);
    srv.emplace(std::move(so));
  } catch (std::exception const& e) {
    con.error(std::string("cannot start the demo: ") + e.what());
    return exit_code::usage;
  }
  auto const users = srv->user_ids();
  std::fprintf(stderr,
               "velt-gdpr demo: local Velt-compatible server at %s (TLS, generated CA), %zu users;\n"
               "exporting with %zu users in flight into %s\n",
               srv->url().c_str(), users.size(), o.concurrency, out.string().c_str());

  export_settings s;
  s.client.base_url = srv->url();
  s.client.ca_file = srv->ca_file().string();
  s.client.proxy = "";  // the embedded server is on 127.0.0.1: never through HTTPS_PROXY
  s.client.api_key = srv->api_key();
  s.client.auth_token = srv->auth_token();
  s.client.max_connections = o.concurrency;
  s.organization_id = srv->organization_id();
  s.out_dir = out;
  s.users.ids = users;
  s.concurrency = o.concurrency;
  s.threads = o.threads;
  s.command = "demo";
  s.command_args = o.argv;  // the audit log: DIR/audit.jsonl

  export_result r;
  try {
    r = run_export(std::move(s), con);
  } catch (export_setup_error const& e) {
    con.error(e.what());
    return exit_code::usage;
  }
  con.end_progress();
  if (r.signal) return r.exit_code;

  // Check every file against the server's ground truth.
  std::size_t matched = 0;
  std::vector<std::string> problems;
  for (auto const& user : users) {
    expected_export want{srv->organization_id(), user, srv->expected_pages(user), srv->expected_export(user)};
    if (auto problem = check_export_file(r.users_dir / export_file_name(user), want)) {
      if (problems.size() < 5) problems.push_back(user + ": " + *problem);
      continue;
    }
    ++matched;
  }
  std::size_t files = 0;
  for (auto const& entry : fs::directory_iterator(r.users_dir)) {
    if (entry.path().extension() == ".json") ++files;
  }

  auto const& t = r.totals;
  double const secs = static_cast<double>(r.elapsed.count()) / 1000.0;
  std::string summary = fmt::format(
      "velt-gdpr demo: exported {} users from the local server in {}\n"
      "  pages      {} ({:.0f} pages/s)\n"
      "  items      {}\n"
      "  written    {} ({:.1f} MB/s)\n"
      "  retries    {}\n"
      "  verified   {} of {} files match the server's data exactly\n"
      "  files      {}/  ({} files; report: {})\n"
      "  audit      {} line {} h={}\n",
      t.ok + t.skipped, format_seconds(r.elapsed), r.pages_received,
      secs > 0 ? static_cast<double>(r.pages_received) / secs : 0.0, r.items_received,
      format_bytes(t.bytes), secs > 0 ? static_cast<double>(t.bytes) / 1e6 / secs : 0.0, r.client.retries,
      matched, users.size(), r.users_dir.string(), files, r.report_file.string(), r.audit_file.string(),
      r.audit_head ? r.audit_head->seq : 0, r.audit_head ? r.audit_head->h : std::string("(not written)"));
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);
  for (auto const& p : problems) con.error("mismatch: " + p);
  if (r.exit_code != exit_code::ok) return r.exit_code;
  return matched == users.size() && files == users.size() ? exit_code::ok : exit_code::failures;
}

}  // namespace velt::gdpr::cli
