// SPDX-License-Identifier: BSL-1.0
// exporter.hpp: the batch export engine behind `velt-gdpr export` and `velt-gdpr demo`.
//
// Users are pulled from a users_source (memory bounded by `concurrency`), each user's pages
// are streamed by one coroutine into an export_writer, and every file is published
// atomically under DIR/users/. See README "The CLI (velt-gdpr)" for the behaviour.
#pragma once

#include "core/console.hpp"
#include "core/report.hpp"
#include "core/users_source.hpp"
#include "core/export_writer.hpp"

#include <velt/audit.hpp>
#include <velt/batch_export.hpp>
#include <velt/client_options.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace velt::gdpr {

/// Everything an export run needs.
struct export_settings {
  velt::client_options client;  ///< base URL, CA file, credentials, pool size, retries
  std::string organization_id;
  std::filesystem::path out_dir;
  users_options users;
  std::size_t concurrency = 64;       ///< users in flight
  std::optional<double> rate;         ///< page requests per second, at most
  /// More members of every page request (velt::batch_options::request_extra).
  boost::json::object request_fields;
  /// How long the run may go without progress, waiting out throttling or an outage,
  /// before it stops (velt::batch_options::max_stall).
  std::chrono::milliseconds max_stall = std::chrono::minutes(15);
  /// A user whose export has run this long makes its progress durable (spool + journal)
  /// after each page, at most this often; 0: after every page.
  std::chrono::milliseconds checkpoint_interval = std::chrono::seconds(5);
  std::optional<std::string> exported_at;  ///< fixed "exportedAt" (reproducible files)
  unsigned threads = 1;                    ///< threads running the network event loop
  unsigned file_threads = 4;               ///< threads for fsync-heavy file work
  /// Threads that validate large pages (the client's `decode_executor`), so that the event
  /// loop keeps reading while a page is checked. 0: one less than the machine's cores,
  /// between 1 and 4.
  unsigned decode_threads = 0;
  std::size_t spill_bytes = default_spill_bytes;
  /// Item bytes all users together may hold in memory before spooling (held_bytes_budget).
  std::size_t held_bytes = 64u << 20;
  bool handle_signals = true;              ///< SIGINT/SIGTERM stop the run (exit 130/143)
  /// The audit log (design note §2.2); empty: `out_dir/audit.jsonl`.
  std::filesystem::path audit_log;
  /// The Ed25519 key that signs the run's `run_end` (`--signing-key`), if any.
  std::optional<std::filesystem::path> signing_key;
  std::string command = "export";          ///< `run_start`'s command
  /// The arguments after the program name, for `run_start` (redacted there).
  std::vector<std::string> command_args;
  audit::writer_options audit_options;     ///< the log's lock timeout
};

/// What a run did.
struct export_result {
  int exit_code = 0;
  run_report::counts totals;                ///< users ok/failed/skipped, pages/items/bytes written
  std::optional<std::uint64_t> total_users; ///< when the users could be counted
  std::uint64_t pages_received = 0;         ///< pages fetched by this run
  std::uint64_t items_received = 0;
  std::chrono::milliseconds elapsed{0};
  velt::client_stats client;
  int signal = 0;                           ///< the signal that stopped the run, 0 if none
  bool credentials_refused = false;
  /// The run stopped because it made no progress for `max_stall`; `stall_error` is the
  /// last failure it waited out.
  bool stalled = false;
  velt::error_details stall_error;
  velt::batch_stats batch;                  ///< the engine's counters (retries, throttling)
  std::filesystem::path users_dir;
  std::filesystem::path report_file;
  std::filesystem::path audit_file;          ///< the audit log
  std::optional<audit::line_ref> audit_head; ///< this run's `run_end`; none if it could not be written
};

/// A problem found before anything was exported (exit status 2): invalid settings, a users
/// file that cannot be opened, an output directory that cannot be used or is in use.
class export_setup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs an export to completion (or until a signal or refused credentials stop it).
/// Validates everything before the first request: throws export_setup_error (the message
/// names the problem and never contains a secret). Progress, log lines and errors go to
/// `out`; the report is written to `out_dir/report.json`.
export_result run_export(export_settings settings, console& out);

}  // namespace velt::gdpr
