// SPDX-License-Identifier: BSL-1.0
// export_run.hpp: the state of one batch_exporter run, shared by the run's bookkeeping
// (batch_exporter.cpp) and the coroutine of each user (export_user.cpp).
#pragma once

#include "batch/pacing.hpp"
#include "batch/run_rules.hpp"

#include <velt/batch_export.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace velt {

/// One user in flight: its strand and the signal that stops it.
struct active_user {
  explicit active_user(boost::asio::strand<boost::asio::any_io_executor> s) : strand(std::move(s)) {}
  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::cancellation_signal signal;  ///< strand only
  /// True while the user's coroutine runs (strand only): a stop is emitted only then, never
  /// into the slot of a coroutine that has ended (see operation_cancellation.hpp).
  bool running = false;
};

namespace detail {

struct export_run : std::enable_shared_from_this<export_run> {
  using run_signature = batch_exporter::run_signature;
  export_run(client c, batch_options o);

  client const cl;
  batch_options const options;
  boost::asio::strand<boost::asio::any_io_executor> control;  ///< the run's bookkeeping
  detail::run_pacer pacer;
  detail::credential_watch credentials;
  /// Attempts of one page, the first included, that fail for reasons about that user (a
  /// 500) before the user fails: the client's `retry_options::max_attempts` (outage answers
  /// while the rest of the run made progress: 4 times as many).
  unsigned const attempts_per_page;

  // ---- one run (reset by begin) ---------------------------------------------------------
  /// Everything below marked "control" is touched on `control` only.
  std::unique_ptr<user_source> source;            ///< control
  sink_factory sinks;  ///< set on control before the first user starts, reset after the last
  /// control; emplaced, never assigned (see run_completion.hpp)
  std::optional<boost::asio::any_completion_handler<run_signature>> handler;
  std::optional<boost::asio::steady_timer> slot_timer;         ///< control
  std::set<std::shared_ptr<active_user>> active;  ///< control
  bool feeding = false;                           ///< control
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};

  /// How the run ends, decided by the first reason to stop (any thread).
  std::mutex end_mutex;
  batch_result::end how = batch_result::end::complete;
  error_details why;
  bool credentials_worked_before = false;
  /// Records the first reason to stop and stops the run. Thread-safe.
  void stop_because(batch_result::end reason, error_details details, bool worked_before = false);
  /// Starts no new user; the users in flight see a terminal cancellation. Thread-safe.
  void request_stop();

  struct counters {
    std::atomic<std::uint64_t> started{0}, complete{0}, skipped{0}, failed{0}, stopped{0};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::uint64_t> pages{0}, items{0}, retries{0};
    /// Users waiting for evidence about the credentials (run_rules.hpp).
    std::atomic<std::size_t> awaiting_evidence{0};
  } count;
  batch_stats stats() const;

  // ---- patience ------------------------------------------------------------------------
  /// Progress: a page delivered or a user ended. Any thread.
  void progressed() noexcept;
  std::chrono::steady_clock::duration since_progress(std::chrono::steady_clock::time_point now) const noexcept;
  std::atomic<std::chrono::steady_clock::rep> last_progress{0};
  /// Progress events so far: a user whose page fails while this moves had a failure about
  /// itself, not about the upstream.
  std::atomic<std::uint64_t> progress_events{0};
  /// The last failure the run waited out (reported when patience runs out). Any thread.
  void waited_for(error_details const& e);
  std::mutex wait_mutex;
  error_details last_wait_error;  ///< wait_mutex
  std::uint64_t generation = 0;   ///< control: runs started, so a stale watchdog ends
  boost::asio::steady_timer* stall_timer = nullptr;  ///< control: the watchdog's timer

  // ---- the credential probe --------------------------------------------------------------
  std::mutex probe_mutex;
  std::optional<std::string> probe_user;  ///< probe_mutex: options, else the last complete user
  bool probe_started = false;             ///< probe_mutex: one probe per run
  std::atomic<bool> probing{false};
  /// A user the sink reported complete: a probe candidate unless the options name one.
  void completed_before(std::string const& user);
};

/// Exports one user (runs on `a->strand`); never throws.
boost::asio::awaitable<void> export_user(std::shared_ptr<export_run> run,
                                         std::shared_ptr<active_user> a, std::string user);
}  // namespace detail

}  // namespace velt
