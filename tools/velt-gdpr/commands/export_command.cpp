// SPDX-License-Identifier: BSL-1.0
// velt-gdpr export: one JSON file per user under DIR/users, and DIR/report.json.
#include "commands/commands.hpp"

#include "core/exit_code.hpp"
#include "core/exporter.hpp"
#include "core/time_format.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace velt::gdpr::cli {

CLI::App* add_export_command(CLI::App& app, export_cli& o) {
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Export users' data: one JSON file per user in DIR/users/ (written atomically, mode 0600), "
      "and DIR/report.json. Rerunning the same command resumes: complete users are skipped.");
  add_users_options(*cmd, o.users);
  cmd->add_option("--out", o.out_dir, "Output directory (created with mode 0700)")->required()->group("Output");
  cmd->add_option("--concurrency", o.concurrency, "Users exported at once")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{4096}))->group("Throughput");
  cmd->add_option("--rate", o.rate, "At most R page requests per second (default: no cap)")
      ->check(CLI::PositiveNumber)->group("Throughput");
  cmd->add_option("--max-stall", o.max_stall,
                  "How long the run may make no progress, waiting out throttling or an outage, "
                  "before it stops (exit 3; a rerun resumes): 90s, 15m, 1h; a bare number is seconds")
      ->capture_default_str()->group("Throughput");
  cmd->add_option("--checkpoint", o.checkpoint_seconds,
                  "Save a long user's progress (page token and items so far) at most every S "
                  "seconds, so a rerun continues it; 0: after every page")
      ->capture_default_str()->check(CLI::NonNegativeNumber)->group("Throughput");
  cmd->add_option("--threads", o.threads, "Threads running the network event loop")
      ->capture_default_str()->check(CLI::Range(1u, 64u))->group("Throughput");
  cmd->add_option("--exported-at", o.exported_at,
                  "Write this time (YYYY-MM-DDTHH:MM:SSZ) as exportedAt instead of each file's "
                  "completion time, for byte-reproducible files")
      ->group("Output");
  add_request_field_option(*cmd, o.request_fields, "every Get All User Data request");
  add_audit_options(*cmd, o.audit, "Default: DIR/audit.jsonl");
  add_progress_option(*cmd, o.output);
  add_connection_options(*cmd, o.conn);
  return cmd;
}

int run_export_command(export_cli const& o) {
  std::optional<console> con;
  export_settings s;
  try {
    auto const cs = make_console_settings(o.output, o.conn);
    con.emplace(cs.progress, cs.log_level);
    s.users = make_users_options(o.users);
    if (!o.exported_at.empty() && !parse_utc(o.exported_at)) {
      throw usage_error("--exported-at: expected YYYY-MM-DDTHH:MM:SSZ, got '" + o.exported_at + "'");
    }
    s.request_fields = make_request_fields(o.request_fields);
    s.client = make_client_options(o.conn, o.concurrency);
    if (auto d = parse_duration(o.max_stall)) {
      s.max_stall = *d;
    } else {
      throw usage_error("--max-stall: expected a duration such as 90s, 15m or 1h, got '" + o.max_stall + "'");
    }
  } catch (usage_error const& e) {
    std::fprintf(stderr, "velt-gdpr: error: %s\n", e.what());
    return exit_code::usage;
  }
  s.organization_id = o.users.org;
  s.out_dir = o.out_dir;
  s.concurrency = o.concurrency;
  s.rate = o.rate;
  auto const patience = s.max_stall;
  s.checkpoint_interval = std::chrono::milliseconds(static_cast<long long>(o.checkpoint_seconds * 1000));
  if (!o.exported_at.empty()) s.exported_at = o.exported_at;
  s.threads = o.threads;
  s.audit_log = o.audit.log;
  if (!o.audit.signing_key.empty()) s.signing_key = o.audit.signing_key;
  s.command_args = o.argv;

  export_result r;
  try {
    r = run_export(std::move(s), *con);
  } catch (export_setup_error const& e) {
    con->error(e.what());
    return exit_code::usage;
  }
  con->end_progress();

  auto const& t = r.totals;
  double const secs = static_cast<double>(r.elapsed.count()) / 1000.0;
  std::string summary;
  if (r.signal) {
    summary += fmt::format("interrupted: {} users exported, {} failed, {} skipped before stopping; "
                           "rerun the same command to resume\n", t.ok, t.failed, t.skipped);
  } else if (r.credentials_refused) {
    summary += fmt::format("stopped: the credentials were refused; {} users exported\n", t.ok);
  } else if (r.stalled) {
    summary += fmt::format("stopped: no progress for {} ({}); {} users exported, {} failed, {} skipped; "
                           "rerun the same command to resume\n",
                           format_seconds(patience), r.stall_error.to_string(), t.ok, t.failed, t.skipped);
  } else {
    summary += fmt::format("exported {} users ({} failed, {} skipped as already complete) to {}\n",
                           t.ok, t.failed, t.skipped, r.users_dir.string());
  }
  summary += fmt::format("  {} pages, {} items, {} written in {} ({:.0f} pages/s); {} requests asked "
                         "again ({} throttled, {} outage pauses)\n",
                         r.pages_received, r.items_received, format_bytes(t.bytes),
                         format_seconds(r.elapsed), secs > 0 ? static_cast<double>(r.pages_received) / secs : 0.0,
                         r.batch.retries, r.batch.throttle_events, r.batch.outages);
  if (t.failed > 0) summary += fmt::format("  {} users failed: see the failures in the report\n", t.failed);
  summary += fmt::format("  report: {}\n", r.report_file.string());
  if (r.audit_head) summary += fmt::format("  audit: {} line {} h={}\n", r.audit_file.string(), r.audit_head->seq, r.audit_head->h);
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace velt::gdpr::cli
