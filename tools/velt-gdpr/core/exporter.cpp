#include "core/exporter.hpp"

#include "core/atomic_file.hpp"
#include "core/dir_lock.hpp"
#include "core/exit_code.hpp"
#include "core/file_name.hpp"
#include "core/progress.hpp"
#include "core/throttle.hpp"
#include "core/time_format.hpp"
#include "core/user_runner.hpp"

#include <velt/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <algorithm>
#include <thread>
#include <vector>

namespace velt::gdpr {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

/// Consecutive users refused with PERMISSION_DENIED / UNAUTHENTICATED (no page received in
/// between) that stop a run which had already received pages (credentials revoked).
constexpr std::uint64_t refusals_that_stop = 32;

bool is_refusal(velt::status s) {
  return s == velt::status::permission_denied || s == velt::status::unauthenticated;
}

/// Statuses with which a server rejects a saved page token: the user starts over.
bool is_token_rejection(velt::status s) {
  return s == velt::status::invalid_argument || s == velt::status::not_found ||
         s == velt::status::failed_precondition || s == velt::status::out_of_range;
}

char const* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

class export_engine;

enum class fetch_outcome { complete, cancelled, failed };
struct fetch_result {
  fetch_outcome outcome = fetch_outcome::complete;
  velt::error_details error;
};

class export_engine {
 public:
  export_engine(export_settings s, console& con);

  export_result run();

  // ---- used by the coroutines below ---------------------------------------------------
  export_settings const& settings() const { return settings_; }
  export_paths const& paths() const { return paths_; }
  velt::client const& client() const { return *client_; }
  user_runner& runner() { return *runner_; }
  request_throttle& throttle() { return throttle_; }
  run_report& report() { return report_; }
  console& out() { return con_; }
  asio::any_io_executor file_executor() { return files_.get_executor(); }
  held_bytes_budget& held_budget() { return held_budget_; }

  std::string exported_at() const {
    return settings_.exported_at ? *settings_.exported_at : format_utc(std::chrono::system_clock::now());
  }

  void page_received(std::size_t items, std::size_t bytes) {
    any_success_ = true;
    consecutive_refusals_ = 0;
    pages_ += 1;
    items_ += items;
    bytes_ += bytes;
  }

  /// A user ended with a server error. Returns false when the failure is not the user's
  /// own (credentials refused: the run stops instead).
  bool user_failed(std::string const& user, velt::error_details const& d);
  /// A local problem (disk full, permissions): the user fails and the run stops.
  void local_failure(std::string const& user, std::string const& what);

 private:
  std::optional<std::string> next_user();
  void on_retry(velt::retry_event const& ev);
  void refuse_credentials(velt::error_details const& d);
  void all_done();
  progress_snapshot snapshot() const;
  void write_report();
  void remove_finished_partials();

  static asio::awaitable<void> tick_progress(export_engine* e);
  static asio::awaitable<void> tick_report(export_engine* e);
  static asio::awaitable<void> watch_signals(export_engine* e);
  static asio::awaitable<void> count_users(export_engine* e);
  std::optional<std::uint64_t> known_total() const;

  export_settings settings_;
  console& con_;
  export_paths paths_;
  asio::io_context io_;
  asio::thread_pool files_;
  asio::thread_pool decode_;  // validates large pages off the event loop (declared before client_)
  // The report ticker's timer lives on this strand, so that the end of the run can cancel
  // it instead of waiting for its next tick.
  asio::strand<asio::thread_pool::executor_type> report_strand_{asio::make_strand(files_)};
  asio::steady_timer* report_timer_ = nullptr;  // on report_strand_ only
  held_bytes_budget held_budget_;
  request_throttle throttle_;
  run_report report_;
  std::optional<velt::client> client_;
  std::unique_ptr<users_source> users_;
  std::unique_ptr<user_runner> runner_;
  std::optional<asio::steady_timer> progress_timer_;
  std::optional<asio::signal_set> signals_;

  steady_clock::time_point started_ = steady_clock::now();
  std::atomic<bool> any_success_{false};
  std::atomic<std::uint64_t> consecutive_refusals_{0};
  std::atomic<bool> credentials_refused_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<int> signal_{0};
  std::atomic<bool> finished_{false};
  std::atomic<bool> stop_report_ticker_{false};
  std::atomic<std::uint64_t> pages_{0}, items_{0}, bytes_{0};
  std::atomic<std::uint64_t> total_users_{0};
  std::atomic<bool> total_known_{false};
  std::atomic<bool> users_cancel_{false};
  std::atomic<bool> count_cancel_{false};  // a stopped run does not wait for the count
  std::mutex report_write_mutex_;
  bool report_write_warned_ = false;
};

// ---- the coroutines of one user ---------------------------------------------------------

/// Waits until the run-wide throttle lets one more request start. False when the run is
/// stopping (or this user was cancelled).
asio::awaitable<bool> acquire_permit(export_engine* e) {
  std::optional<asio::steady_timer> timer;
  for (;;) {
    if (e->runner().stopping()) co_return false;
    auto const d = e->throttle().try_acquire(throttle_clock::now());
    if (d.granted) co_return true;
    if (!timer) timer.emplace(co_await asio::this_coro::executor);
    timer->expires_after(d.wait);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return false;
  }
}

asio::awaitable<void> checkpoint_on_pool(export_writer* w) {
  co_await asio::this_coro::throw_if_cancelled(false);
  w->checkpoint();
}

asio::awaitable<std::uint64_t> finish_on_pool(export_writer* w, std::string exported_at) {
  co_await asio::this_coro::throw_if_cancelled(false);
  co_return w->finish(exported_at);
}

/// Runs `task` (blocking file work) on `ex` and waits for it. The work is short and must
/// not be torn, so cancellation is not forwarded to it; that also avoids Boost 1.81's
/// co_spawn epilogue, which throws (and terminates the thread pool) when a child that
/// never suspended is cancelled.
template <class T>
asio::awaitable<T> run_blocking(asio::any_io_executor ex, asio::awaitable<T> task) {
  co_return co_await asio::co_spawn(ex, std::move(task),
                                    asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable));
}

/// Streams the user's pages (from `token`, or from the first page) into `w`.
asio::awaitable<fetch_result> fetch_pages(export_engine* e, export_writer* w, std::string user,
                                          std::optional<std::string> token) {
  velt::user_data_request request{.organization_id = e->settings().organization_id,
                                  .user_id = std::move(user),
                                  .page_token = std::move(token)};
  velt::page_stream stream = e->client().async_fetch_all_user_data(std::move(request), velt::page_format::raw);
  auto last_checkpoint = steady_clock::now();
  for (;;) {
    if (!co_await acquire_permit(e)) co_return fetch_result{fetch_outcome::cancelled, {}};
    auto [ec, page] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
    e->throttle().release(!ec);
    if (ec) {
      if (e->runner().stopping() &&
          (ec == asio::error::operation_aborted || velt::canonical_status(ec) == velt::status::cancelled)) {
        co_return fetch_result{fetch_outcome::cancelled, {}};
      }
      velt::error_details d = stream.last_error();
      if (!d.code) d = velt::make_error_details(ec, ec.message());
      co_return fetch_result{fetch_outcome::failed, std::move(d)};
    }
    if (!page) co_return fetch_result{fetch_outcome::complete, {}};
    bool const last = page->is_last();
    std::size_t const items = page->item_count();
    std::size_t const bytes = w->add_page(std::move(*page));
    page.reset();
    e->page_received(items, bytes);
    if (last) co_return fetch_result{fetch_outcome::complete, {}};
    auto const now = steady_clock::now();
    if (now - last_checkpoint >= e->settings().checkpoint_interval) {
      co_await run_blocking(e->file_executor(), checkpoint_on_pool(w));
      last_checkpoint = steady_clock::now();
    }
  }
}

/// Exports one user: resumes from its journal when there is one, streams the rest of its
/// pages, publishes the file; on cancellation or failure keeps what is durable.
asio::awaitable<void> export_user(export_engine* e, std::string user) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::string local_error;
  enum class next_step { none, publish, save, failed } step = next_step::none;
  fetch_result r;
  auto w = std::make_unique<export_writer>(e->paths(), e->settings().organization_id, user,
                                           e->settings().spill_bytes, &e->held_budget());
  try {
    std::optional<std::string> token = w->resume();
    bool const resumed = token.has_value();
    if (resumed) {
      e->out().log(velt::log_level::info,
                   fmt::format("resuming user {} after page {}", printable_id(user), w->pages()));
    }
    r = co_await fetch_pages(e, w.get(), user, std::move(token));
    if (resumed && r.outcome == fetch_outcome::failed && w->pages() == w->resumed_pages() &&
        is_token_rejection(r.error.status)) {
      e->out().log(velt::log_level::warning,
                   fmt::format("user {}: the saved page token was refused ({}); starting the user again",
                               printable_id(user), r.error.to_string()));
      w->discard();
      w = std::make_unique<export_writer>(e->paths(), e->settings().organization_id, user,
                                          e->settings().spill_bytes, &e->held_budget());
      r = co_await fetch_pages(e, w.get(), user, std::nullopt);
    }
    step = r.outcome == fetch_outcome::complete    ? next_step::publish
           : r.outcome == fetch_outcome::cancelled ? next_step::save
                                                   : next_step::failed;
  } catch (std::exception const& ex) {
    local_error = ex.what();
  }
  if (!local_error.empty()) {
    e->local_failure(user, local_error);
    co_return;
  }
  co_await asio::this_coro::reset_cancellation_state();
  try {
    if (step == next_step::publish) {
      std::uint64_t const bytes =
          co_await run_blocking(e->file_executor(), finish_on_pool(w.get(), e->exported_at()));
      e->report().add_ok(w->pages(), w->items(), bytes);
      e->out().log(velt::log_level::debug,
                   fmt::format("exported user {}: {} pages, {} items", printable_id(user), w->pages(), w->items()));
      co_return;
    }
    if (step == next_step::failed && !e->user_failed(user, r.error)) co_return;
    // Cancelled or failed: keep the pages received so far for the next run.
    if (w->unsaved_pages() > 0) {
      co_await run_blocking(e->file_executor(), checkpoint_on_pool(w.get()));
    }
  } catch (std::exception const& ex) {
    local_error = ex.what();
  }
  if (!local_error.empty()) e->local_failure(user, local_error);
}

// ---- the engine -----------------------------------------------------------------------------

namespace {
unsigned decode_threads_for(unsigned wanted) {
  if (wanted > 0) return wanted;
  unsigned const cores = std::thread::hardware_concurrency();
  return std::clamp(cores > 1 ? cores - 1 : 1u, 1u, 4u);
}
}  // namespace

export_engine::export_engine(export_settings s, console& con)
    : settings_(std::move(s)),
      con_(con),
      paths_(settings_.out_dir),
      files_(std::max(1u, settings_.file_threads)),
      decode_(decode_threads_for(settings_.decode_threads)),
      held_budget_(settings_.held_bytes),
      throttle_(std::max<std::size_t>(1, settings_.concurrency), settings_.rate),
      report_(settings_.organization_id, std::chrono::system_clock::now()) {
  if (settings_.organization_id.empty()) throw export_setup_error("--org is empty");
  velt::client_options opts = settings_.client;
  opts.on_retry = [this](velt::retry_event const& ev) { on_retry(ev); };
  opts.decode_executor = decode_.get_executor();
  console* c = &con_;
  opts.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  try {
    client_.emplace(io_.get_executor(), std::move(opts));
  } catch (velt::error const& e) {
    throw export_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  try {
    users_ = std::make_unique<users_source>(settings_.users);
  } catch (users_file_error const& e) {
    throw export_setup_error(e.what());
  }
  users_->set_cancel_flag(&users_cancel_);
  if (settings_.users.shard.count > 1) report_.set_shard(settings_.users.shard.to_string());
  runner_ = std::make_unique<user_runner>(io_, files_.get_executor(), settings_.concurrency);
}

std::optional<std::string> export_engine::next_user() {
  for (;;) {
    std::optional<user_entry> entry = users_->next();
    if (!entry) return std::nullopt;
    if (entry->problem) {
      report_.add_failure(user_failure{entry->id, velt::status::invalid_argument, 0, *entry->problem, 0});
      con_.log(velt::log_level::warning, "skipping a user id: " + *entry->problem);
      continue;
    }
    struct stat st {};
    if (::stat((paths_.users_dir / export_file_name(entry->id)).c_str(), &st) == 0) {
      report_.add_skipped();
      continue;
    }
    return std::move(entry->id);
  }
}

void export_engine::on_retry(velt::retry_event const& ev) {
  if (ev.why != velt::retry_event::reason::throttled) return;
  auto const before = throttle_.stats().limit;
  if (throttle_.on_throttled(throttle_clock::now(), ev.delay)) {
    auto const after = throttle_.stats().limit;
    con_.log(velt::log_level::info,
             fmt::format("the server is throttling ({}): at most {} requests in flight now (was {}), "
                         "pausing new requests for {} ms",
                         ev.error.to_string(), after, before, ev.delay.count()));
  }
}

bool export_engine::user_failed(std::string const& user, velt::error_details const& d) {
  if (is_refusal(d.status)) {
    std::uint64_t const in_a_row = ++consecutive_refusals_;
    if (!any_success_ || in_a_row >= refusals_that_stop) {
      refuse_credentials(d);
      return false;
    }
  }
  if (credentials_refused_) return false;
  report_.add_failure(user_failure{user, d.status, d.http_status, d.message, d.attempts});
  con_.log(velt::log_level::warning, fmt::format("user {} failed: {}", printable_id(user), d.to_string()));
  return true;
}

void export_engine::refuse_credentials(velt::error_details const& d) {
  if (credentials_refused_.exchange(true)) return;
  std::string const explanation =
      any_success_ ? "the credentials stopped working during the run"
                   : "the server refused the credentials on the first requests";
  report_.set_error(d, explanation);
  con_.error(fmt::format("{} ({}); check VELT_API_KEY / --api-key-file and VELT_AUTH_TOKEN / "
                         "--auth-token-file; stopping the run",
                         explanation, d.to_string()));
  count_cancel_ = true;
  runner_->stop();
}

void export_engine::local_failure(std::string const& user, std::string const& what) {
  report_.add_failure(user_failure{user, velt::status::internal, 0, what, 0});
  if (!fatal_.exchange(true)) {
    con_.error("cannot write the export: " + what + "; stopping the run");
    count_cancel_ = true;
    runner_->stop();
  }
}

std::optional<std::uint64_t> export_engine::known_total() const {
  if (!total_known_) return std::nullopt;
  // The count includes duplicate ids; the reader skips each one as it meets it, so the
  // total is exact once the reader has reached the end of the file.
  std::uint64_t const ids = total_users_.load();
  std::uint64_t const dups = users_->duplicates_met();
  return ids > dups ? ids - dups : 0;
}

progress_snapshot export_engine::snapshot() const {
  progress_snapshot s;
  auto const t = report_.totals();
  s.ok = t.ok;
  s.failed = t.failed;
  s.skipped = t.skipped;
  s.total = known_total();
  s.pages = pages_;
  s.items = items_;
  s.bytes = bytes_;
  auto const cs = client_->stats();
  s.retries = cs.retries;
  s.time_throttled = cs.time_throttled;
  s.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
  auto const th = throttle_.stats();
  s.window = th.limit;
  s.window_max = th.max;
  return s;
}

void export_engine::write_report() {
  std::lock_guard lock(report_write_mutex_);
  try {
    write_file_atomically(settings_.out_dir / "report.json", to_json_text(report_));
  } catch (std::exception const& ex) {
    if (!report_write_warned_) {
      report_write_warned_ = true;
      con_.log(velt::log_level::warning, std::string("cannot write report.json: ") + ex.what());
    }
  }
}

void export_engine::remove_finished_partials() {
  // A run killed between publishing a user's file and removing its spool leaves the spool
  // behind; the user is complete (and skipped from now on), so the spool can go.
  std::error_code ec;
  for (auto it = fs::directory_iterator(paths_.partial_root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string const stem = it->path().filename().string();
    struct stat st {};
    if (::stat((paths_.users_dir / (stem + ".json")).c_str(), &st) == 0) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }
}

asio::awaitable<void> export_engine::tick_progress(export_engine* e) {
  auto const interval = e->con_.redraws() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  while (!e->finished_) {
    e->progress_timer_->expires_after(interval);
    auto [ec] = co_await e->progress_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || e->finished_) break;
    e->con_.progress(format_progress(e->snapshot()));
  }
}

asio::awaitable<void> export_engine::tick_report(export_engine* e) {
  // Runs on report_strand_: the end of the run cancels the timer there.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  e->report_timer_ = &timer;
  while (!e->stop_report_ticker_) {
    timer.expires_after(std::chrono::seconds(1));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!e->stop_report_ticker_ && e->report_.take_dirty()) e->write_report();
  }
  e->report_timer_ = nullptr;
}

asio::awaitable<void> export_engine::watch_signals(export_engine* e) {
  for (;;) {
    auto [ec, sig] = co_await e->signals_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (e->signal_.exchange(sig) != 0) {
      // A second signal: leave at once (the next run resumes from what is durable).
      std::_Exit(exit_code::interrupted_base + sig);
    }
    e->con_.note(fmt::format("velt-gdpr: {}: starting no more users, stopping the {} in flight "
                             "(a second signal exits at once)",
                             signal_name(sig), e->runner_->in_flight()));
    e->users_cancel_ = true;
    e->count_cancel_ = true;
    e->runner_->stop();
  }
}

asio::awaitable<void> export_engine::count_users(export_engine* e) {
  try {
    if (auto n = users_source::count(e->settings_.users, &e->count_cancel_)) {
      e->total_users_ = *n;
      e->total_known_ = true;
    }
  } catch (std::exception const&) {
    // The real reader reports the problem.
  }
  co_return;
}

void export_engine::all_done() {
  finished_ = true;
  if (con_.shows_progress()) con_.progress(format_progress(snapshot()));  // the final state
  if (progress_timer_) progress_timer_->cancel();
  if (signals_) signals_->cancel();
  users_cancel_ = true;  // a source blocked on a pipe gives up within 200 ms
  client_->close_idle_connections();
  // Nothing else is pending now: the event loop runs out of work and run() returns.
}

export_result export_engine::run() {
  // The output directory: created 0700, locked against a second run, checked to belong to
  // this organization.
  try {
    make_private_directories(settings_.out_dir);
  } catch (fs::filesystem_error const& e) {
    throw export_setup_error(std::string("--out: ") + e.what());
  }
  std::unique_ptr<dir_lock> lock;
  try {
    lock = std::make_unique<dir_lock>(settings_.out_dir);
  } catch (std::exception const& e) {
    throw export_setup_error(std::string("--out: ") + e.what());
  }
  try {
    auto const previous = boost::json::parse(read_file(settings_.out_dir / "report.json"));
    if (auto const* org = previous.as_object().if_contains("organizationId");
        org && org->is_string() && org->get_string() != settings_.organization_id) {
      throw export_setup_error(fmt::format("--out: {} holds an export of another organization ({}); "
                                           "use a new directory",
                                           settings_.out_dir.string(), std::string(org->get_string())));
    }
  } catch (export_setup_error const&) {
    throw;
  } catch (std::exception const&) {
    // No (readable) earlier report: a new directory.
  }
  try {
    make_private_directories(paths_.users_dir);
    remove_stale_temporaries(paths_.users_dir);
    remove_stale_temporaries(settings_.out_dir);
    remove_finished_partials();
  } catch (fs::filesystem_error const& e) {
    throw export_setup_error(std::string("--out: ") + e.what());
  }

  write_report();
  started_ = steady_clock::now();

  progress_timer_.emplace(runner_->strand());
  if (settings_.handle_signals) {
    signals_.emplace(runner_->strand(), SIGINT, SIGTERM);
    asio::co_spawn(runner_->strand(), watch_signals(this), asio::detached);
  }
  if (con_.shows_progress()) asio::co_spawn(runner_->strand(), tick_progress(this), asio::detached);
  asio::co_spawn(report_strand_, tick_report(this), asio::detached);
  asio::co_spawn(files_, count_users(this), asio::detached);

  runner_->start([this] { return next_user(); },
                 [this](std::string user) { return export_user(this, std::move(user)); },
                 [this] { all_done(); },
                 users_->never_waits() ? settings_.concurrency : 1);

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, settings_.threads); ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads) t.join();
  // Stop the report ticker now rather than at its next tick (every run used to end up to
  // 100 ms later than its work). A count still reading a long users file is waited for
  // (the final total needs it), unless the run was stopped.
  stop_report_ticker_ = true;
  asio::post(report_strand_, [this] {
    if (report_timer_) report_timer_->cancel();
  });
  files_.join();

  export_result result;
  result.signal = signal_;
  result.credentials_refused = credentials_refused_;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_);
  if (auto err = runner_->source_error()) {
    try {
      std::rethrow_exception(err);
    } catch (std::exception const& ex) {
      con_.error(ex.what());
    }
  }
  if (auto err = runner_->work_error()) {
    try {
      std::rethrow_exception(err);
    } catch (std::exception const& ex) {
      con_.error(std::string("internal error: ") + ex.what());
    }
  }
  run_state const state = result.signal ? run_state::interrupted
                          : (credentials_refused_ || fatal_) ? run_state::stopped
                                                             : run_state::complete;
  report_.finish(state, std::chrono::system_clock::now());
  write_report();
  ::rmdir(paths_.partial_root.c_str());  // only when no unfinished user is left in it

  result.totals = report_.totals();
  result.total_users = known_total();
  result.pages_received = pages_;
  result.items_received = items_;
  result.client = client_->stats();
  result.users_dir = paths_.users_dir;
  result.report_file = settings_.out_dir / "report.json";
  if (result.signal) {
    result.exit_code = exit_code::interrupted_base + result.signal;
  } else if (credentials_refused_ && !any_success_) {
    result.exit_code = exit_code::usage;
  } else if (result.totals.failed > 0 || credentials_refused_ || fatal_ || runner_->source_error() ||
             runner_->work_error()) {
    result.exit_code = exit_code::failures;
  } else {
    result.exit_code = exit_code::ok;
  }
  return result;
}

}  // namespace

export_result run_export(export_settings settings, console& out) {
  export_engine engine(std::move(settings), out);
  return engine.run();
}

}  // namespace velt::gdpr
