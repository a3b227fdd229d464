// SPDX-License-Identifier: BSL-1.0
// audit_trail.hpp: the audit log of one run (design note §5): one thread owns the
// `velt::audit::log_writer`; the run's producers (user strands, the erase observer)
// enqueue events and go on; the thread appends whatever is queued in one write and
// fdatasyncs by group commit: at 256 unsynced lines, 100 ms after the first unsynced one,
// when someone waits for a line to be durable (a receipt), and before `run_end`.
#pragma once

#include <velt/audit.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace velt::gdpr {

/// When the audit thread makes lines durable, and how much it may hold.
struct audit_policy {
  std::size_t queue_limit = 4096;  ///< events queued at most; producers wait beyond
  std::size_t sync_lines = 256;    ///< fdatasync once this many lines are unsynced
  std::chrono::milliseconds sync_delay{100};  ///< ... or this long after the first of them
};

/// The audit log of one run: its writer, its signing key (if any) and its thread.
/// `record` and `wait_durable` are thread-safe; `begin` and `end` are called once each,
/// by the thread that runs the command.
class audit_trail {
 public:
  /// Opens the log (`log_writer::open`: lock, torn-tail cut, tail check) and registers
  /// `secrets` (the credentials in use) as never to be written. Throws `audit::error`.
  audit_trail(std::filesystem::path const& file, std::optional<audit::signing_key> key,
              std::vector<std::string> secrets, audit_policy policy = {},
              audit::writer_options options = {});
  /// Stops the thread without a `run_end` (a run that ended by an exception).
  ~audit_trail();
  audit_trail(audit_trail const&) = delete;
  audit_trail& operator=(audit_trail const&) = delete;

  /// Called once, from the audit thread, when a write or sync fails: the run must stop
  /// (nothing may proceed unrecorded). Set before `begin`.
  void on_failure(std::function<void(std::string const& what)> f) { on_failure_ = std::move(f); }

  /// Writes `run_start` (with the key's fingerprint when signing), makes it durable and
  /// starts the audit thread. Throws `audit::error`.
  audit::line_ref begin(audit::run_info const& info);

  /// Queues one event (waits while `queue_limit` events are queued). Returns its ticket
  /// for `wait_durable`; 0 when the trail has failed (the event is dropped: the run is
  /// stopping).
  std::uint64_t record(std::string name, boost::json::object members);

  /// Blocks until the event of `ticket`, and every event before it, is written and
  /// fdatasync'ed. False when the trail failed first.
  bool wait_durable(std::uint64_t ticket);

  /// Writes what is queued, then `run_end` (`state`, `exit_status`, `counts`; signed with
  /// the key), and syncs; stops the thread. Returns the head (the `run_end` line), none
  /// when the log could not be written (`failure()` says why).
  std::optional<audit::line_ref> end(std::string_view state, int exit_status, boost::json::object const& counts);

  /// The first write or sync failure, if any.
  std::optional<std::string> failure() const;
  /// This run's id (`run`).
  std::string const& run_id() const noexcept { return writer_.run_id(); }
  /// The log file.
  std::filesystem::path const& file() const noexcept { return writer_.file(); }
  /// The signing key, if any.
  audit::signing_key const* key() const noexcept { return key_ ? &*key_ : nullptr; }
  /// Fdatasyncs made by the audit thread so far (for tests of the policy).
  std::uint64_t syncs() const;

 private:
  void loop();
  void fail(std::string what);

  audit::log_writer writer_;
  std::optional<audit::signing_key> key_;
  audit_policy const policy_;
  std::function<void(std::string const&)> on_failure_;

  mutable std::mutex mutex_;
  std::condition_variable work_;   ///< the thread: events queued, a sync wanted, stop
  std::condition_variable space_;  ///< producers: room in the queue
  std::condition_variable durable_changed_;
  std::deque<audit::event> queue_;
  std::uint64_t enqueued_ = 0;     ///< tickets handed out
  std::uint64_t written_ = 0;      ///< events appended
  std::uint64_t durable_ = 0;      ///< events appended and synced
  std::uint64_t wanted_ = 0;       ///< highest ticket someone waits on
  std::uint64_t syncs_ = 0;
  std::chrono::steady_clock::time_point first_unsynced_{};
  bool stopping_ = false;
  bool started_ = false;
  std::optional<std::string> failure_;
  bool failure_reported_ = false;  ///< on_failure has returned: waiters may go
  std::thread thread_;
};

/// `log_writer::open` failures as a command reports them before any request (exit 2): the
/// error's message, with a hint for a tail that does not verify.
std::string describe_open_failure(audit::error const& e);

}  // namespace velt::gdpr
