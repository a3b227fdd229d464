// SPDX-License-Identifier: BSL-1.0
// velt/batch_export.hpp: exporting many users on one client (`velt::batch_exporter`).
//
//   velt::batch_exporter exporter(client, {.organization_id = "org", .concurrency = 64});
//   velt::batch_result r = co_await exporter.async_run(
//       velt::users_from(ids), [](std::string const& user) { return make_my_sink(user); },
//       boost::asio::use_awaitable);
//
// The exporter pulls user ids from a `user_source` only when a slot is free (memory does
// not grow with the number of users), runs each user's page chain on a strand of its own,
// paces the requests of the whole run, and hands each user's pages, in order, to a
// `user_sink` the caller makes for that user. The sink decides where pages go and how a
// user resumes; the exporter decides when requests are made.
#pragma once

#include <velt/client.hpp>
#include <velt/error.hpp>
#include <velt/model.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace velt {

namespace detail {
struct export_run;
}  // namespace detail

/// Where the user ids of a batch run come from.
class user_source {
 public:
  virtual ~user_source() = default;
  /// Up to `max` more ids (at least one while any are left; `max` >= 1); an empty vector
  /// ends the source. Called one at a time, on the run's own strand; it may hop to another
  /// executor (to read a file, say) and must complete on the one it was called on, as a
  /// `co_await` of any Asio operation does. An exception ends the run's intake: the users
  /// already started finish, and the run reports `batch_result::end::source_failed`.
  virtual boost::asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) = 0;
  /// A user id these credentials exported before (one the source skipped because its
  /// export is complete, say), or none. Asked when a refusal comes before any page, to
  /// fetch it as a probe that tells refused credentials from a refused user (see
  /// `batch_options::refusals_that_stop`). May be called from any thread, also while
  /// `async_pull` runs. The default: none.
  virtual std::optional<std::string> exported_before() const { return std::nullopt; }
};

/// A source over ids held in memory, in order.
std::unique_ptr<user_source> users_from(std::vector<std::string> ids);

/// Where a user's export begins: what `user_sink::async_start` answers.
struct resume_point {
  /// The sink holds this user's complete export already: no request is made.
  bool complete = false;
  /// Continue with the page this token names (the sink holds every page before it).
  /// None: start from the first page.
  std::optional<std::string> page_token{};
  /// Pages the sink holds already; the next page delivered has this index.
  std::size_t pages = 0;
};

/// How one user's export ended.
struct user_outcome {
  /// @enum state
  /// The ways a user's export ends.
  /// @var what
  /// How this user's export ended.
  enum class state {
    complete,  ///< every page was delivered
    skipped,   ///< the sink said the user was complete already; no request was made
    failed,    ///< the server refused or failed this user, or the sink threw (`error`)
    stopped,   ///< the run stopped first (cancelled, `stop()`, credentials refused): the
               ///< user is not done, its pages so far are the sink's to keep for a resume
  } what = state::complete;
  /// Why, for `failed` (and for `stopped` when the server's answer stopped the run).
  error_details error{};
  /// True when `failed` because a sink call threw (`error.message` is its `what()`).
  bool sink_failed = false;
  std::size_t pages = 0;  ///< pages delivered to the sink by this run
  std::size_t items = 0;  ///< items on those pages
};

/// Receives one user's export. The exporter makes one per user (`sink_factory`) and calls
/// it one call at a time, in this order, on the user's strand:
///   async_start, then async_page for each page in order (after async_restart when the
///   saved page token was refused), then async_finish exactly once.
/// An exception from any call fails the user (`user_outcome::sink_failed`) and stops the
/// run (`batch_result::end::sink_failed`); `async_finish` is still called unless it is the
/// call that threw. Calls should be short, or hop to a thread pool for blocking file work
/// and come back. Operations a call awaits share the user's cancellation: after a stop
/// they may complete with `operation_aborted`; bind an empty cancellation slot to work
/// that must not be torn (writing a file). `async_finish` starts with the stop cleared.
class user_sink {
 public:
  virtual ~user_sink() = default;
  /// Where this user's export starts. The default: from the first page.
  virtual boost::asio::awaitable<resume_point> async_start();
  /// The server refused the token `async_start` gave (INVALID_ARGUMENT, NOT_FOUND,
  /// FAILED_PRECONDITION or OUT_OF_RANGE before any new page): forget what was kept; the
  /// export starts again from the first page. The default does nothing.
  virtual boost::asio::awaitable<void> async_restart(error_details const& why);
  /// The next page, in order. `page.index()` counts from the first page of the user.
  virtual boost::asio::awaitable<void> async_page(user_data_page page) = 0;
  /// The end of this user's export (exactly once).
  virtual boost::asio::awaitable<void> async_finish(user_outcome const& outcome) = 0;
};

/// Makes the sink of one user, on that user's strand (so possibly on several threads at
/// once when the executor is run by several). Must not block. May throw: the user then
/// fails as if its sink had thrown.
using sink_factory = std::function<std::unique_ptr<user_sink>(std::string const& user_id)>;

/// The run slowed down because the server throttled it (`batch_options::on_slow_down`).
struct slow_down_event {
  error_details const& error;          ///< the throttling answer
  std::optional<double> rate_before{};  ///< page requests per second before (none: unlimited)
  double rate_after = 0;               ///< ... and from now on
  /// No new request starts for this long: the server's Retry-After, or the wait its
  /// message names ("Try again after 1 minute"); zero when it named none.
  std::chrono::milliseconds pause{0};
};

/// The upstream stopped answering, or answers again (`batch_options::on_outage`).
struct outage_event {
  /// True: the run pauses (no new request but one probe at a time); false: it resumes.
  bool began = false;
  /// With `began`: the failure that opened the pause (502/503/504, no connection, ...).
  error_details const* error = nullptr;
  /// Without `began`: how long the pause lasted.
  std::chrono::milliseconds paused_for{0};
};

/// How a batch export runs.
struct batch_options {
  std::string organization_id{};  ///< required
  std::size_t concurrency = 64; ///< users in flight (each has one page request at a time)
  /// `raw` gives each item's JSON text as the server sent it (cheap; for code that stores
  /// or forwards items); `parsed` gives Boost.JSON values.
  page_format format = page_format::raw;
  /// More members of every page request's `data` object (`user_data_request::extra`), for
  /// every user, on every page, retries and the credential probe included: what newer Velt
  /// SDKs send (`veltUserIds`, `veltAllOrganizations`, `uniqueId`). Keys the exporter sets
  /// (`organizationId`, `userId`, `pageToken`) are refused by the constructor.
  boost::json::object request_extra{};
  /// Page requests per second of the whole run, at most (none: no cap). Below it, the run
  /// finds the rate the server sustains by itself: unlimited until the first throttling
  /// answer, then paced to what the server lets through, probing upward (README
  /// "Throttling and outages").
  std::optional<double> max_rate{};
  /// The run's patience. Throttling and outages never fail a user: the run waits (paced,
  /// or paused with one probe request at a time) for as long as it makes progress. When no
  /// page arrives and no user ends for this long, the run stops (`batch_result::end::stalled`)
  /// and the users in flight are `stopped` (not done; a rerun resumes them). Must be > 0.
  std::chrono::milliseconds max_stall = std::chrono::minutes(15);
  /// A run that has received pages stops when this many users in a row are refused with
  /// PERMISSION_DENIED or UNAUTHENTICATED (the credentials were revoked). Before any page
  /// arrived, a refusal is judged from evidence: a page of another user in flight, or a
  /// probe (`credential_probe`, else a user the sink reported complete, fetched again);
  /// without any, or after 3 refusals in a row, the credentials are taken as refused.
  /// Users refused while the credentials work are failures of those users. 0: never stop.
  std::size_t refusals_that_stop = 32;
  /// A user id these credentials exported before, fetched (first page only) to tell refused
  /// credentials from a refused user when a refusal comes before any page. None: the
  /// source's `exported_before()`, else the last user a sink reported complete
  /// (`resume_point::complete`), if any.
  std::optional<std::string> credential_probe{};
  /// Called when a throttling answer cuts the run's request rate (at most about once per
  /// round trip of throttling; from a user's strand; must not block). May be empty.
  std::function<void(slow_down_event const&)> on_slow_down{};
  /// Called when the run pauses for an outage and when it resumes (from a user's strand;
  /// must not block). May be empty.
  std::function<void(outage_event const&)> on_outage{};
};

/// A snapshot of a run's progress (`batch_exporter::stats`).
struct batch_stats {
  std::uint64_t users_started = 0;   ///< users handed to a sink
  /// Users whose every page was delivered.
  std::uint64_t users_complete = 0;
  std::uint64_t users_skipped = 0;   ///< the sink had them complete already
  /// Users that failed (`user_outcome::state::failed`).
  std::uint64_t users_failed = 0;
  std::uint64_t users_stopped = 0;   ///< not done when the run stopped
  std::size_t in_flight = 0;         ///< users running now
  std::uint64_t pages = 0;           ///< pages delivered by this run
  /// Items on those pages.
  std::uint64_t items = 0;
  /// The page-request rate the run holds to now (requests/s); none: unlimited.
  std::optional<double> rate{};
  std::uint64_t throttle_events = 0;  ///< throttling answers, all users
  std::uint64_t outages = 0;          ///< times the run paused for an outage
  std::uint64_t retries = 0;          ///< page requests asked again, for any reason
  /// @enum pause
  /// Why new requests wait: `none`, they do not; `throttled`, a throttling answer paused the
  /// run (its Retry-After, or the wait its message names); `outage`, the upstream is down
  /// and only one probe request at a time is sent.
  /// @var paused
  /// Why new requests wait now, if they do.
  enum class pause { none, throttled, outage } paused = pause::none;
  /// How long the current pause has lasted (0 when `paused` is `none`).
  std::chrono::milliseconds paused_for{0};
  /// Time since the last progress (a page delivered or a user ended); see `max_stall`.
  std::chrono::milliseconds since_progress{0};
};

/// How a run ended.
struct batch_result {
  /// @enum end
  /// The ways a run ends.
  /// @var how
  /// How the run ended.
  enum class end {
    complete,             ///< the source ran out and every user ended
    stopped,              ///< `stop()` or the completion's cancellation slot
    credentials_refused,  ///< see `batch_options::refusals_that_stop`; `error` has the answer
    sink_failed,          ///< a sink threw; `error.message` has its `what()`
    source_failed,        ///< the source threw; `error.message` has its `what()`
    stalled,              ///< no progress for `batch_options::max_stall`; `error` has the
                          ///< last throttling or outage failure
  } how = end::complete;
  /// The failure behind `credentials_refused`, `sink_failed`, `source_failed` or `stalled`;
  /// default (status `OK`) otherwise.
  error_details error{};
  /// For `credentials_refused`: whether a page had been received before the refusal that
  /// stopped the run (the credentials worked, then stopped working).
  bool credentials_worked_before = false;
  /// The run's counters when it ended.
  batch_stats stats{};
};

/// Exports many users of one organization on one client, on the client's executor (a
/// strand of it for each user and one for the run's bookkeeping). Correct on an io_context
/// run by one thread or several.
class batch_exporter {
 public:
  /// Validates `options` (throws `velt::error` with `errc::invalid_request` naming the
  /// field: empty organization id, zero concurrency, a rate that is not positive, a
  /// `max_stall` that is not, a `request_extra` that `wire::validate_extra` refuses). No I/O.
  batch_exporter(client c, batch_options options);
  ~batch_exporter();
  batch_exporter(batch_exporter const&) = delete;
  batch_exporter& operator=(batch_exporter const&) = delete;

  /// Completion signature of `async_run`.
  using run_signature = void(boost::system::error_code, batch_result);

  /// Runs the export until the source is exhausted and every user has ended, or until
  /// the run stops. The error code is set only for misuse (a second run while one is in
  /// progress: `errc::invalid_request`); how the run ended is in `batch_result::how`.
  /// Terminal or partial cancellation of the completion's slot is `stop()`. One run at a
  /// time; the exporter must outlive it.
  template <class CompletionToken>
  auto async_run(std::unique_ptr<user_source> users, sink_factory sinks, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, run_signature>(
        [](auto handler, batch_exporter* self, std::unique_ptr<user_source> u, sink_factory s) {
          self->start(std::move(u), std::move(s),
                      boost::asio::any_completion_handler<run_signature>(std::move(handler)));
        },
        token, this, std::move(users), std::move(sinks));
  }

  /// Starts no new user and stops the users in flight (their sinks see `stopped`).
  /// Thread-safe, idempotent; the run then completes.
  void stop();

  /// A snapshot of the current (or last) run. Thread-safe.
  batch_stats stats() const;

 private:
  void start(std::unique_ptr<user_source> users, sink_factory sinks,
             boost::asio::any_completion_handler<run_signature> handler);

  std::shared_ptr<detail::export_run> run_;
};

}  // namespace velt
