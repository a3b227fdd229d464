// SPDX-License-Identifier: BSL-1.0
// export_audit.hpp: what `velt-gdpr export` writes in the audit log (design note §2.2):
// `exported` once a user's file is published (naming the file's SHA-256), `export_failed`,
// and the recovery of `exported` lines a kill lost between publishing and logging.
#pragma once

#include "core/audit_trail.hpp"
#include "core/seen_ids.hpp"

#include <velt/error.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// The members of an `exported` line: `userId`, `file` (`users/<encoded id>.json`),
/// `pages`, `items`, `bytes`, `sha256`, and `recovered` when true.
boost::json::object exported_members(std::string_view user_id, std::uint64_t pages, std::uint64_t items,
                                     std::uint64_t bytes, std::string sha256, bool recovered = false);

/// The members of an `export_failed` line: `userId`, `status`, `httpStatus`, `attempts`
/// (never the message: a server's message can echo request data).
boost::json::object export_failed_members(std::string_view user_id, velt::status status, unsigned http_status,
                                          unsigned attempts);

/// The users with an `exported` line in `log` from a run whose `run_start` names `dir`
/// (absolute, as `begin_run` recorded it). Empty when the log does not exist yet. Throws
/// `audit::error` when it cannot be read.
std::unique_ptr<seen_ids> users_logged_as_exported(std::filesystem::path const& log,
                                                   std::filesystem::path const& dir);

/// The `exported` members of a published file found without its line (a kill between
/// publishing and logging): reads `users_dir/<encoded id>.json` back for its pages, items,
/// size and SHA-256; `recovered` is true. Throws on a file that cannot be read or parsed.
boost::json::object recovered_members(std::filesystem::path const& users_dir, std::string const& user_id);

/// Where an export's audit goes and what its `run_start` says.
struct export_audit_setup {
  std::filesystem::path log;              ///< --audit-log, or DIR/audit.jsonl
  std::optional<audit::signing_key> key;  ///< --signing-key, loaded
  audit::run_info info;                   ///< with `dir` set to DIR, absolute
  std::vector<std::string> secrets;       ///< the credentials in use: never in a line
  audit::writer_options options;
  std::function<void(std::string const&)> on_failure;  ///< `audit_trail::on_failure`
};

/// Opens the log (cutting a torn tail), collects into `logged` the users it shows exported
/// into `info.dir` when `users_dir` holds files (else leaves `logged` empty: nothing to
/// recover), and writes `run_start`. Throws `audit::error`.
std::unique_ptr<audit_trail> start_export_audit(export_audit_setup setup, std::filesystem::path const& users_dir,
                                                std::unique_ptr<seen_ids>& logged);

}  // namespace velt::gdpr
