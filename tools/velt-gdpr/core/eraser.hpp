// SPDX-License-Identifier: BSL-1.0
// eraser.hpp: the engine behind `velt-gdpr erase` and `velt-gdpr erase-status`.
//
// erase: the users are read as a stream and queued for deletion in batches of
// `batch_size` ids per Delete All User Data call (several calls in flight). Each queued
// job is printed at once on `out` as a JSON line; `wait` polls every job until it
// completes; `verify` then fetches every user again and reports any item left.
//
// Lines on `out` (one JSON object each, "event" first):
//   {"event":"queued","jobId":"...","tasksCount":3,"users":100,"userIds":[...]}
//   {"event":"failed","users":100,"userIds":[...],"error":{status,httpStatus,message,attempts,maybeQueued}}
//   {"event":"completed","jobId":"...","tasksLeft":0,"lastTaskCompletedTime":...}
//   {"event":"unfinished","jobId":"...","error":{...}}           (wait ended without completion)
//   {"event":"remaining","userId":"...","items":{"comments":3,...}}  (verify found data)
//   {"event":"unverified","userId":"...","error":{...}}          (verify could not fetch)
//   {"event":"verified","users":n,"usersWithData":n,"usersUnverified":n}
#pragma once

#include "core/console.hpp"
#include "core/users_source.hpp"

#include <velt/audit.hpp>
#include <velt/client_options.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace velt::gdpr {

struct erase_settings {
  velt::client_options client;
  std::string organization_id;
  users_options users;
  std::size_t batch_size = 100;   ///< user ids per deletion job
  std::size_t concurrency = 16;   ///< requests in flight (delete calls, polls, verify exports)
  bool wait = false;
  bool verify = false;            ///< implies wait
  std::chrono::milliseconds poll_interval = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::hours(24);  ///< for the whole wait
  /// The verification's patience with throttling and outages (erase_options::max_stall).
  std::chrono::milliseconds max_stall = std::chrono::minutes(15);
  /// More members of the verification's page requests (velt::erase_options::request_extra).
  boost::json::object request_fields;
  bool handle_signals = true;
  /// The audit log (`--audit-log`, required by the command; design note §2.2).
  std::filesystem::path audit_log;
  /// The Ed25519 key that signs `run_end` and the receipts (`--signing-key`), if any.
  std::optional<std::filesystem::path> signing_key;
  /// `--receipts DIR`: a signed receipt per user verified with nothing left (needs
  /// `verify` and `signing_key`).
  std::optional<std::filesystem::path> receipts_dir;
  /// The arguments after the program name, for `run_start` (redacted there).
  std::vector<std::string> command_args;
  audit::writer_options audit_options;  ///< the log's lock timeout
};

struct erase_result {
  int exit_code = 0;
  std::uint64_t users = 0;            ///< users in queued jobs
  std::uint64_t jobs_queued = 0;
  std::uint64_t batches_failed = 0;   ///< delete calls that failed (their users not queued)
  std::uint64_t jobs_completed = 0;
  std::uint64_t jobs_unfinished = 0;  ///< wait ended (timeout, error) before completion
  std::uint64_t users_verified = 0;
  std::uint64_t users_with_data = 0;
  std::uint64_t users_unverified = 0;
  int signal = 0;
  bool credentials_refused = false;
  std::filesystem::path audit_file;           ///< the audit log
  std::optional<audit::line_ref> audit_head;  ///< this run's `run_end`; none if not written
  std::uint64_t receipts = 0;                 ///< receipts written
};

/// A problem found before any request (exit status 2).
class erase_setup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs an erase. JSON lines go to `out` (flushed line by line), progress and messages to
/// `con`. Throws erase_setup_error for invalid settings or an unreadable users file.
erase_result run_erase(erase_settings settings, console& con, std::FILE* out);

/// Prints `{"jobId","isDeleteCompleted","tasksLeft","lastTaskCompletedTime"}` (or
/// `{"jobId","error":{...}}`) for each job, one line each, in order. Exit status 0 when
/// every status was read, 3 otherwise, 2 for invalid settings (thrown as erase_setup_error).
int run_erase_status(velt::client_options client, std::vector<std::string> const& job_ids,
                     console& con, std::FILE* out);

}  // namespace velt::gdpr
