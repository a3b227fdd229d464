// SPDX-License-Identifier: BSL-1.0
// velt-gdpr erase / erase-status: queue deletion of users' data, wait, verify; read the
// status of deletion jobs.
#include "commands/commands.hpp"

#include "core/eraser.hpp"
#include "core/exit_code.hpp"
#include "core/time_format.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace velt::gdpr::cli {

CLI::App* add_erase_command(CLI::App& app, erase_cli& o) {
  CLI::App* cmd = app.add_subcommand(
      "erase",
      "Queue deletion of users' data in batches and print each job as a JSON line on stdout; "
      "--wait polls the jobs until they complete; --verify then fetches every user again and "
      "reports any data left (exit 0 only when nothing remains).");
  add_users_options(*cmd, o.users);
  cmd->add_flag("--wait", o.wait, "Wait until every job completes (progress: tasks left)")->group("Erase");
  cmd->add_flag("--verify", o.verify, "After waiting, check that no data is left (implies --wait)")->group("Erase");
  cmd->add_option("--poll-interval", o.poll_interval, "Seconds between status polls of a job")
      ->capture_default_str()->check(CLI::PositiveNumber)->group("Erase");
  cmd->add_option("--timeout", o.timeout, "Seconds to wait for all jobs (Velt documents up to 24 h)")
      ->capture_default_str()->check(CLI::PositiveNumber)->group("Erase");
  cmd->add_option("--max-stall", o.max_stall,
                  "How long --verify may make no progress, waiting out throttling or an outage, "
                  "before the users left are reported unverified: 90s, 15m, 1h; a bare number is seconds")
      ->capture_default_str()->group("Erase");
  cmd->add_option("--batch-size", o.batch_size, "User ids per deletion job")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{10000}))->group("Erase");
  cmd->add_option("--concurrency", o.concurrency, "Requests in flight (deletions, polls, verify exports)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1024}))->group("Erase");
  add_request_field_option(*cmd, o.request_fields, "every Get All User Data request of --verify");
  add_audit_options(*cmd, o.audit, "Required: what was erased must be on record");
  cmd->add_option("--receipts", o.receipts_dir,
                  "Write a signed erasure receipt per user the verification found empty: DIR/<id>.json and "
                  "DIR/<id>.json.sig (raw Ed25519 over the .json bytes; `openssl pkeyutl -verify` checks it). "
                  "Needs --verify and --signing-key")
      ->group("Audit");
  add_progress_option(*cmd, o.output);
  add_connection_options(*cmd, o.conn);
  return cmd;
}

int run_erase_command(erase_cli const& o) {
  std::optional<console> con;
  erase_settings s;
  try {
    auto const cs = make_console_settings(o.output, o.conn);
    con.emplace(cs.progress, cs.log_level);
    s.users = make_users_options(o.users);
    s.request_fields = make_request_fields(o.request_fields);
    if (!s.request_fields.empty() && !o.verify) {
      throw usage_error("--request-field: only --verify fetches users' data (deletion calls do not "
                        "take these fields); add --verify or leave --request-field out");
    }
    s.client = make_client_options(o.conn, o.concurrency);
    if (auto d = parse_duration(o.max_stall)) {
      s.max_stall = *d;
    } else {
      throw usage_error("--max-stall: expected a duration such as 90s, 15m or 1h, got '" + o.max_stall + "'");
    }
    if (o.audit.log.empty()) {
      throw usage_error("erase needs --audit-log FILE: the record of what was asked, queued, completed and "
                        "verified (several runs may share one file)");
    }
    if (!o.receipts_dir.empty() && (!o.verify || o.audit.signing_key.empty())) {
      throw usage_error("--receipts needs --verify (a receipt attests a verified erasure) and --signing-key");
    }
  } catch (usage_error const& e) {
    std::fprintf(stderr, "velt-gdpr: error: %s\n", e.what());
    return exit_code::usage;
  }
  s.audit_log = o.audit.log;
  if (!o.audit.signing_key.empty()) s.signing_key = o.audit.signing_key;
  if (!o.receipts_dir.empty()) s.receipts_dir = o.receipts_dir;
  s.command_args = o.argv;
  s.organization_id = o.users.org;
  s.batch_size = o.batch_size;
  s.concurrency = o.concurrency;
  s.wait = o.wait || o.verify;
  s.verify = o.verify;
  s.poll_interval = std::chrono::milliseconds(static_cast<long long>(o.poll_interval * 1000));
  s.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000));
  erase_result r;
  try {
    r = run_erase(std::move(s), *con, stdout);
  } catch (erase_setup_error const& e) {
    con->error(e.what());
    return exit_code::usage;
  }
  std::string summary = fmt::format("velt-gdpr erase: {} deletion jobs queued for {} users", r.jobs_queued, r.users);
  if (r.batches_failed > 0) summary += fmt::format(", {} requests failed", r.batches_failed);
  if (o.wait || o.verify) {
    summary += fmt::format("; {} completed", r.jobs_completed);
    if (r.jobs_unfinished > 0) summary += fmt::format(", {} unfinished", r.jobs_unfinished);
  }
  if (o.verify) {
    summary += fmt::format("; verified {} users: {}", r.users_verified,
                           r.users_with_data == 0 ? std::string("no data left")
                                                  : fmt::format("{} still have data", r.users_with_data));
    if (r.users_unverified > 0) summary += fmt::format(" ({} could not be checked)", r.users_unverified);
  }
  if (o.verify && !o.receipts_dir.empty()) summary += fmt::format("; {} receipts written", r.receipts);
  if (r.signal) summary += " (interrupted)";
  con->note(summary);
  if (r.audit_head) con->note(fmt::format("  audit: {} line {} h={}", r.audit_file.string(), r.audit_head->seq, r.audit_head->h));
  return r.exit_code;
}

CLI::App* add_erase_status_command(CLI::App& app, erase_status_cli& o) {
  CLI::App* cmd = app.add_subcommand(
      "erase-status",
      "Print the status of deletion jobs, one JSON line each: "
      "{\"jobId\",\"isDeleteCompleted\",\"tasksLeft\",\"lastTaskCompletedTime\"} (or \"error\").");
  cmd->add_option("job_ids", o.job_ids, "Job ids printed by erase")->required();
  add_connection_options(*cmd, o.conn);
  return cmd;
}

int run_erase_status_command(erase_status_cli const& o) {
  std::optional<console> con;
  velt::client_options opts;
  try {
    output_cli quiet{"never"};
    auto const cs = make_console_settings(quiet, o.conn);
    con.emplace(cs.progress, cs.log_level);
    opts = make_client_options(o.conn, 4);
  } catch (usage_error const& e) {
    std::fprintf(stderr, "velt-gdpr: error: %s\n", e.what());
    return exit_code::usage;
  }
  try {
    return run_erase_status(std::move(opts), o.job_ids, *con, stdout);
  } catch (erase_setup_error const& e) {
    con->error(e.what());
    return exit_code::usage;
  }
}

}  // namespace velt::gdpr::cli
