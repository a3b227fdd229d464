// SPDX-License-Identifier: BSL-1.0
// export_sink.hpp: what `velt-gdpr export` plugs into velt::batch_exporter: the users file
// as a user_source, and a user_sink that writes each user's file (export_writer: spool,
// journal, atomic publish) and records the user's end in the run's report.
#pragma once

#include "core/audit_trail.hpp"
#include "core/console.hpp"
#include "core/export_writer.hpp"
#include "core/report.hpp"
#include "core/seen_ids.hpp"
#include "core/users_source.hpp"

#include <velt/batch_export.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace velt::gdpr {

/// What the sinks and the source of one export run share.
struct export_files {
  explicit export_files(export_paths p) : paths(std::move(p)) {}
  export_paths paths;
  std::string organization_id;
  std::size_t spill_bytes = default_spill_bytes;
  held_bytes_budget* held = nullptr;
  std::chrono::milliseconds checkpoint_interval{0};
  boost::asio::any_io_executor file_executor;  ///< blocking file work (fsync, rename)
  console* out = nullptr;
  run_report* report = nullptr;
  std::function<std::string()> exported_at;
  /// A page was added: its items and serialized bytes.
  std::function<void(std::size_t items, std::size_t bytes)> on_page;
  /// The run's audit log (`exported`, `export_failed` lines); none: not recorded.
  audit_trail* audit = nullptr;
  /// The users the audit log already shows as exported into this directory: a skipped user
  /// not in it gets its `exported` line now (`recovered`). None: no recovery.
  seen_ids const* logged_as_exported = nullptr;
  /// A local problem (disk full, permissions): the user fails and the run stops.
  std::function<void(std::string const& user, std::string const& what)> local_failure;
};

/// The sink of one user: resumes from the user's journal, writes pages through an
/// export_writer, checkpoints long users, publishes the file when complete and keeps what
/// is durable otherwise.
std::unique_ptr<velt::user_sink> make_file_sink(export_files const& files, std::string const& user);

/// The users of `source` not yet exported: bad ids are reported as failures and users whose
/// file exists are counted as skipped, both without a request. Reads on `files.file_executor`,
/// up to the free slots at once when the source never waits for input, else one at a time.
std::unique_ptr<velt::user_source> make_file_users(export_files const& files, users_source& source);

}  // namespace velt::gdpr
