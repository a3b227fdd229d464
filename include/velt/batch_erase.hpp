// SPDX-License-Identifier: BSL-1.0
// velt/batch_erase.hpp: erasing many users on one client (`velt::batch_eraser`).
//
//   velt::batch_eraser eraser(client, {.organization_id = "org", .verify = true});
//   velt::erase_result r = co_await eraser.async_run(
//       [&] { return velt::users_from(ids); }, observer, boost::asio::use_awaitable);
//
// Three phases: the users are read as a stream and queued for deletion in batches of
// `batch_size` ids per Delete All User Data call (several calls in flight); with `wait`,
// every queued job is polled until it completes (`client::async_wait_for_deletion`); with
// `verify`, the users are read once more and exported again (`batch_exporter`) to show
// that nothing is left. A deletion call is never resent once it may have reached the
// server (`velt::may_have_taken_effect`).
#pragma once

#include <velt/batch_export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace velt {

namespace detail {
struct erase_run;
}  // namespace detail

/// How a batch erase runs.
struct erase_options {
  std::string organization_id{};  ///< required; sent as `organizationIds` (a faster job)
  std::size_t batch_size = 100;   ///< user ids per deletion job
  std::size_t concurrency = 16;   ///< requests in flight (delete calls, waits, verify exports)
  bool wait = false;              ///< poll every queued job until it completes
  bool verify = false;            ///< then export every user again; implies `wait`
  /// Time between two polls of a queued job in the wait phase; must be > 0.
  std::chrono::milliseconds poll_interval = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::hours(24);  ///< for the whole wait phase
  /// The verification's patience (`batch_options::max_stall`): it waits out throttling
  /// and outages until it has made no progress for this long. Must be > 0.
  std::chrono::milliseconds max_stall = std::chrono::minutes(15);
  /// More members of the verification's page requests (`batch_options::request_extra`),
  /// so that it fetches the users as the export did. Not sent with deletion calls.
  boost::json::object request_extra{};
};

/// What the verification of an erase found for one user it exported to the end
/// (`erase_observer::on_verified`).
struct user_verification {
  std::size_t pages = 0;    ///< pages fetched, after the user's deletion job completed
  std::uint64_t items = 0;  ///< items found on them (0: nothing left)
  /// Items found per feature (known and unknown features); only features with items.
  std::map<std::string, std::uint64_t> items_by_feature{};
};

/// What a batch erase tells as it goes. One call at a time (from the run's strand, or during
/// verification from a user's strand); must not block. Every method has an empty default.
class erase_observer {
 public:
  virtual ~erase_observer() = default;
  /// A deletion job was queued for `users`.
  virtual void on_queued(std::vector<std::string> const& users, delete_job const& job);
  /// The deletion call for `users` failed. `velt::may_have_taken_effect(error)` says
  /// whether a job may have been queued anyway (check before asking again).
  virtual void on_not_queued(std::vector<std::string> const& users, error_details const& error);
  /// The wait for a job saw it complete; `status` is its last status.
  virtual void on_completed(std::string const& job_id, delete_status const& status);
  /// The wait for a job ended without its completion (timeout, an error, ...).
  virtual void on_unfinished(std::string const& job_id, error_details const& error);
  /// Verification exported `user` to the end: what it fetched and found, clean or not.
  /// Called for every such user, before `on_remaining` when items were found.
  virtual void on_verified(std::string const& user, user_verification const& v);
  /// Verification found items left: count per feature (known and unknown features).
  virtual void on_remaining(std::string const& user, std::map<std::string, std::uint64_t> const& items);
  /// Verification could not export this user.
  virtual void on_unverified(std::string const& user, error_details const& error);
};

/// Where an erase run is, and what it did (`batch_eraser::stats`, `erase_result`).
struct erase_stats {
  /// @enum phase
  /// The phases of a run, in order: `queue` (the deletion calls), `wait` (polling the queued
  /// jobs; with `erase_options::wait` or `verify`), `verify` (exporting the users again;
  /// with `erase_options::verify`), `done` (the run has ended).
  /// @var at
  /// The phase the run is in.
  enum class phase { queue, wait, verify, done } at = phase::queue;
  std::uint64_t users = 0;           ///< users in queued jobs
  /// Deletion calls that queued a job.
  std::uint64_t jobs_queued = 0;
  std::uint64_t batches_failed = 0;  ///< deletion calls that failed (their users not queued)
  /// Jobs seen complete in the wait phase.
  std::uint64_t jobs_completed = 0;
  /// Jobs whose wait ended without their completion (not counting a stopped run's).
  std::uint64_t jobs_unfinished = 0;
  std::int64_t tasks_left = 0;       ///< summed over the jobs polled and not complete
  bool tasks_left_known = true;      ///< false while some job was never polled
  /// Users the verification exported to the end.
  std::uint64_t users_verified = 0;
  /// Verified users with items left (`erase_observer::on_remaining`).
  std::uint64_t users_with_data = 0;
  /// Users the verification could not export (`erase_observer::on_unverified`).
  std::uint64_t users_unverified = 0;
};

/// How an erase run ended.
struct erase_result {
  /// @enum end
  /// The ways a run ends.
  /// @var how
  /// How the run ended.
  enum class end {
    complete,             ///< every phase asked for ran to its end
    stopped,              ///< `stop()` or the completion's cancellation slot
    credentials_refused,  ///< the first deletion calls were refused (PERMISSION_DENIED / UNAUTHENTICATED)
    source_failed,        ///< the source threw; `error.message` has its `what()`
    stalled,              ///< the verification made no progress for `max_stall` (waiting out
                          ///< throttling or an outage; `error` has the last failure): the users
                          ///< it had started are unverified, those after them were not checked
  } how = end::complete;
  /// The failure behind `credentials_refused`, `source_failed` or `stalled`; default
  /// (status `OK`) otherwise.
  error_details error{};
  /// The run's counters when it ended.
  erase_stats stats{};
  /// True when nothing is known to be wrong: complete, no failed batch, no unfinished job,
  /// no user with data left or unverified.
  bool clean() const noexcept;
};

/// Makes a source over the users to erase. Called once for queueing and, with `verify`,
/// once more for verification: both must give the same users.
using source_factory = std::function<std::unique_ptr<user_source>()>;

/// Erases many users of one organization on one client, on the client's executor (one
/// strand for the whole run).
class batch_eraser {
 public:
  /// Validates `options` (throws `velt::error` with `errc::invalid_request` naming the
  /// field: empty organization id, zero batch size or concurrency, a poll interval that is
  /// not positive, a `request_extra` that `wire::validate_extra` refuses). No I/O.
  batch_eraser(client c, erase_options options);
  ~batch_eraser();
  batch_eraser(batch_eraser const&) = delete;
  batch_eraser& operator=(batch_eraser const&) = delete;

  /// Completion signature of `async_run`.
  using run_signature = void(boost::system::error_code, erase_result);

  /// Runs the erase. The error code is set only for misuse (a second run at the same time,
  /// no source: `errc::invalid_request`). Cancellation of the completion's slot is
  /// `stop()`. `events` must outlive the run.
  template <class CompletionToken>
  auto async_run(source_factory users, erase_observer& events, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, run_signature>(
        [](auto handler, batch_eraser* self, source_factory u, erase_observer* ev) {
          self->start(std::move(u), *ev,
                      boost::asio::any_completion_handler<run_signature>(std::move(handler)));
        },
        token, this, std::move(users), &events);
  }

  /// Queues no new batch and stops waiting and verifying. Deletion calls in flight are
  /// let finish: one may already have been queued, and its job id is worth reporting.
  /// Thread-safe, idempotent.
  void stop();

  /// A snapshot of the current (or last) run. Thread-safe.
  erase_stats stats() const;

 private:
  void start(source_factory users, erase_observer& events,
             boost::asio::any_completion_handler<run_signature> handler);

  std::shared_ptr<detail::erase_run> run_;
};

}  // namespace velt
