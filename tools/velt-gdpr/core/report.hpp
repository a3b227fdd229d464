// SPDX-License-Identifier: BSL-1.0
// report.hpp: `DIR/report.json`, the record of a run.
//
//   {"organizationId":"org-1","startedAt":"...","finishedAt":"..." (null while running),
//    "state":"running"|"complete"|"interrupted"|"stopped",
//    "users":{"ok":n,"failed":n,"skipped":n},
//    "failures":[{"userId":"...","status":"PERMISSION_DENIED","httpStatus":403,
//                 "message":"...","attempts":1}],
//    "pages":n,"items":n,"bytes":n, "shard":"K/N" (when sharded),
//    "failuresOmitted":n (when more than `max_failures` failed),
//    "error":{...} (when the run was stopped, e.g. credentials refused),
//    "audit":{"file":"...","seq":n,"h":"<64 hex>"} (the audit log's head: this run's run_end)}
// "skipped" counts users whose file existed already (resumed runs).
#pragma once

#include <velt/error.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace velt::gdpr {

/// One user that could not be exported.
struct user_failure {
  std::string user_id;
  velt::status status = velt::status::unknown;
  unsigned http_status = 0;
  std::string message;
  unsigned attempts = 0;
};

/// How a run ended (or that it has not yet).
enum class run_state { running, complete, interrupted, stopped };
char const* to_string(run_state s) noexcept;

/// A user id as it can appear in JSON: invalid UTF-8 sequences become U+FFFD.
std::string printable_id(std::string_view id);

/// The counters and failures of a run. Thread-safe.
class run_report {
 public:
  /// Failures listed in full; beyond that only counted ("failuresOmitted").
  static constexpr std::size_t max_failures = 10000;

  run_report(std::string organization_id, std::chrono::system_clock::time_point started);

  void set_shard(std::string shard);
  void add_ok(std::uint64_t pages, std::uint64_t items, std::uint64_t bytes);
  void add_skipped();
  void add_failure(user_failure f);
  /// The run ended (finishedAt = `when`).
  void finish(run_state state, std::chrono::system_clock::time_point when);
  /// The audit log and the line this run ended it with (its `run_end`): "audit".
  void set_audit(std::string file, std::uint64_t seq, std::string h);
  /// The run was stopped because of `why` (e.g. credentials refused).
  void set_error(velt::error_details const& why, std::string explanation);

  struct counts {
    std::uint64_t ok = 0, failed = 0, skipped = 0;
    std::uint64_t pages = 0, items = 0, bytes = 0;
  };
  counts totals() const;
  /// Changes since the last `take_dirty` (for throttled rewrites of the file).
  bool take_dirty();

  boost::json::object to_json() const;

 private:
  mutable std::mutex mutex_;
  std::string organization_id_;
  std::chrono::system_clock::time_point started_;
  std::optional<std::chrono::system_clock::time_point> finished_;
  run_state state_ = run_state::running;
  std::string shard_;
  counts counts_;
  std::vector<user_failure> failures_;
  std::uint64_t failures_omitted_ = 0;
  std::optional<boost::json::object> error_;
  std::optional<boost::json::object> audit_;
  bool dirty_ = true;
};

/// `report.to_json()` serialized, with a newline.
std::string to_json_text(run_report const& report);

}  // namespace velt::gdpr
