#include "core/eraser.hpp"

#include "core/exit_code.hpp"
#include "core/report.hpp"
#include "core/time_format.hpp"

#include <velt/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>

namespace velt::gdpr {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

// An answer with one of these statuses says the server did not act on the request (the
// API may pair them with any HTTP status: "decide from status first").
bool says_not_done(velt::status s) {
  switch (s) {
    case velt::status::invalid_argument:
    case velt::status::failed_precondition:
    case velt::status::out_of_range:
    case velt::status::permission_denied:
    case velt::status::unauthenticated:
    case velt::status::not_found:
    case velt::status::already_exists:
    case velt::status::resource_exhausted:
    case velt::status::unimplemented:
      return true;
    default:
      return false;
  }
}

bool is_refusal(velt::status s) {
  return s == velt::status::permission_denied || s == velt::status::unauthenticated;
}

json::object error_json(velt::error_details const& d) {
  return json::object{{"status", velt::to_string(d.status)},
                      {"httpStatus", d.http_status},
                      {"message", printable_id(d.message)},
                      {"attempts", d.attempts}};
}

/// Detaches whatever a worker's cancellation signal is still bound to when the worker ends
/// (a timer of its frame): a later stop() must not reach it.
struct slot_clearer {
  asio::cancellation_signal* signal;
  ~slot_clearer() { signal->slot().clear(); }
};

json::array ids_json(std::vector<std::string> const& ids) {
  json::array a;
  for (auto const& id : ids) a.push_back(json::string(printable_id(id)));
  return a;
}

/// Everything the erase coroutines share. Runs on one thread: no locks needed.
class eraser {
 public:
  eraser(erase_settings s, console& con, std::FILE* out);
  erase_result run();

 private:
  // Phases.
  static asio::awaitable<void> flow(eraser* e);
  // Each worker gets its own cancellation signal, bound only to operations that are safe
  // to cancel (its timers, page_stream::async_next); see stop().
  using worker_function = asio::awaitable<void> (*)(eraser*, asio::cancellation_signal*);
  static asio::awaitable<void> queue_worker(eraser* e, asio::cancellation_signal* cancel);
  static asio::awaitable<void> wait_worker(eraser* e, asio::cancellation_signal* cancel);
  static asio::awaitable<void> verify_worker(eraser* e, asio::cancellation_signal* cancel);
  static asio::awaitable<void> run_workers(eraser* e, worker_function worker);
  static asio::awaitable<void> watch_signals(eraser* e);
  static asio::awaitable<void> tick_progress(eraser* e);

  std::vector<std::string> next_batch();
  void print(json::object const& line);
  void stop();
  void refuse_credentials(velt::error_details const& d);
  std::string progress_line() const;

  erase_settings settings_;
  console& con_;
  std::FILE* out_;
  asio::io_context io_;
  std::optional<velt::client> client_;
  std::unique_ptr<users_source> users_;
  std::list<asio::cancellation_signal> workers_;
  std::optional<asio::signal_set> signals_;
  std::optional<asio::steady_timer> progress_timer_;

  enum class phase { queue, wait, verify, done } phase_ = phase::queue;
  bool stopping_ = false;
  bool any_success_ = false;
  bool credentials_refused_ = false;
  int signal_ = 0;
  steady_clock::time_point started_ = steady_clock::now();
  steady_clock::time_point wait_deadline_{};

  struct job {
    std::string id;
    std::int64_t tasks_left = -1;  // unknown until polled
    bool completed = false;
  };
  std::deque<job> jobs_;
  std::size_t next_job_ = 0;
  erase_result result_;
};

eraser::eraser(erase_settings s, console& con, std::FILE* out)
    : settings_(std::move(s)), con_(con), out_(out) {
  if (settings_.organization_id.empty()) throw erase_setup_error("--org is empty");
  if (settings_.batch_size == 0) throw erase_setup_error("--batch-size must be at least 1");
  if (settings_.verify) settings_.wait = true;
  velt::client_options opts = settings_.client;
  console* c = &con_;
  opts.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  try {
    client_.emplace(io_.get_executor(), std::move(opts));
  } catch (velt::error const& e) {
    throw erase_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  if (settings_.verify && settings_.users.file == "-") {
    throw erase_setup_error("--verify reads the users twice: give a --users-file that is a file, not -");
  }
  try {
    users_ = std::make_unique<users_source>(settings_.users);
  } catch (users_file_error const& e) {
    throw erase_setup_error(e.what());
  }
}

void eraser::print(json::object const& line) {
  std::string text = json::serialize(line);
  text += '\n';
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

std::vector<std::string> eraser::next_batch() {
  std::vector<std::string> batch;
  while (batch.size() < settings_.batch_size) {
    auto entry = users_->next();
    if (!entry) break;
    if (entry->problem) {
      con_.error("skipping a user id: " + *entry->problem);
      ++result_.batches_failed;
      continue;
    }
    batch.push_back(std::move(entry->id));
  }
  return batch;
}

void eraser::stop() {
  // No new batch, job or user. Deletion calls in flight are not cancelled: one may already
  // have been queued, and its job id is worth printing. Waits and verification stop now.
  // (Cancellation is never forwarded into the client's delete / status operations: with
  // Boost 1.81, cancelling such an operation just as it completes can touch freed memory.)
  if (stopping_) return;
  stopping_ = true;
  for (auto& w : workers_) w.emit(asio::cancellation_type::terminal);
}

void eraser::refuse_credentials(velt::error_details const& d) {
  if (credentials_refused_) return;
  credentials_refused_ = true;
  con_.error(fmt::format("the server refused the credentials ({}); check VELT_API_KEY / "
                         "--api-key-file and VELT_AUTH_TOKEN / --auth-token-file; stopping",
                         d.to_string()));
  stop();
}

asio::awaitable<void> eraser::queue_worker(eraser* e, asio::cancellation_signal*) {
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!e->stopping_) {
    std::vector<std::string> batch = e->next_batch();
    if (batch.empty()) break;
    velt::delete_user_data_request request{.user_ids = batch, .organization_ids = {e->settings_.organization_id}};
    velt::error_details details;
    auto [ec, job] = co_await e->client_->async_delete_all_user_data(std::move(request), details,
                                                                      asio::as_tuple(asio::use_awaitable));
    if (!ec) {
      e->any_success_ = true;
      json::object line{{"event", "queued"}, {"jobId", job.job_id}};
      if (job.tasks_count) line["tasksCount"] = *job.tasks_count;
      line["users"] = batch.size();
      line["userIds"] = ids_json(batch);
      e->print(line);
      e->jobs_.push_back(eraser::job{job.job_id});
      ++e->result_.jobs_queued;
      e->result_.users += batch.size();
      continue;
    }
    if (!details.code) details = velt::make_error_details(ec, ec.message());
    if (is_refusal(details.status) && !e->any_success_) {
      e->refuse_credentials(details);
      break;
    }
    // Not queued: a request that was never sent (attempts 0), or one the server refused
    // with a 4xx answer (bad request, credentials, throttling). Anything else may have
    // been: a transport failure after sending, a 5xx (a gateway can time out while the API
    // goes on and queues the job; Velt documents calls of up to ~5 minutes), or a 2xx
    // whose body could not be read. The client never resends a deletion blindly.
    bool const refused = (details.http_status >= 400 && details.http_status < 500) ||
                         (details.http_status != 0 && says_not_done(details.status));
    bool const maybe_queued = details.attempts > 0 && !refused;
    json::object error = error_json(details);
    error["maybeQueued"] = maybe_queued;
    e->print(json::object{{"event", "failed"},
                          {"users", batch.size()},
                          {"userIds", ids_json(batch)},
                          {"error", std::move(error)}});
    ++e->result_.batches_failed;
    if (!e->stopping_) {
      e->con_.error(fmt::format("a deletion request for {} users failed: {}{}", batch.size(),
                                details.to_string(),
                                maybe_queued ? " (it may have been queued: check before retrying)" : ""));
    }
  }
}

asio::awaitable<void> eraser::wait_worker(eraser* e, asio::cancellation_signal* cancel) {
  co_await asio::this_coro::throw_if_cancelled(false);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  slot_clearer const clear_slot{cancel};  // destroyed before the timer
  while (!e->stopping_ && e->next_job_ < e->jobs_.size()) {
    eraser::job* j = &e->jobs_[e->next_job_++];
    // Poll until the job completes, the wait's deadline passes or the run stops.
    std::optional<velt::error_details> failure;
    for (;;) {
      velt::delete_status_request request{.job_id = j->id};
      velt::error_details details;
      auto [ec, status] = co_await e->client_->async_get_delete_user_data_status(
          std::move(request), details, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!details.code) details = velt::make_error_details(ec, ec.message());
        failure = details;
        break;
      }
      j->tasks_left = status.tasks_left;
      if (status.is_delete_completed) {
        j->completed = true;
        ++e->result_.jobs_completed;
        json::object line{{"event", "completed"}, {"jobId", j->id}, {"tasksLeft", status.tasks_left}};
        if (status.last_task_completed_time) line["lastTaskCompletedTime"] = *status.last_task_completed_time;
        e->print(line);
        break;
      }
      if (e->stopping_) co_return;
      if (steady_clock::now() + e->settings_.poll_interval > e->wait_deadline_) {
        failure = velt::make_error_details(
            velt::make_error_code(velt::errc::deadline_exceeded),
            fmt::format("not complete when --timeout passed ({} tasks left)", status.tasks_left));
        break;
      }
      timer.expires_after(e->settings_.poll_interval);
      auto [tec] = co_await timer.async_wait(
          asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
      if (tec || e->stopping_) co_return;
    }
    if (!failure) continue;
    ++e->result_.jobs_unfinished;
    e->print(json::object{{"event", "unfinished"}, {"jobId", j->id}, {"error", error_json(*failure)}});
    if (!e->stopping_) e->con_.error(fmt::format("job {}: {}", j->id, failure->to_string()));
  }
}

asio::awaitable<void> eraser::verify_worker(eraser* e, asio::cancellation_signal* cancel) {
  co_await asio::this_coro::throw_if_cancelled(false);
  slot_clearer const clear_slot{cancel};
  while (!e->stopping_) {
    auto entry = e->users_->next();
    if (!entry) break;
    if (entry->problem) continue;  // reported while queueing
    velt::user_data_request request{.organization_id = e->settings_.organization_id, .user_id = entry->id};
    velt::page_stream stream = e->client_->async_fetch_all_user_data(std::move(request));
    std::map<std::string, std::uint64_t> left;
    bool failed = false;
    for (;;) {
      auto [ec, page] = co_await stream.async_next(
          asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
      if (ec) {
        if (e->stopping_) co_return;
        velt::error_details d = stream.last_error();
        if (!d.code) d = velt::make_error_details(ec, ec.message());
        e->print(json::object{{"event", "unverified"}, {"userId", printable_id(entry->id)}, {"error", error_json(d)}});
        ++e->result_.users_unverified;
        failed = true;
        break;
      }
      if (!page) break;
      for (auto const& member : page->data()) {
        if (auto const* a = member.value().if_array(); a && !a->empty()) {
          left[std::string(member.key())] += a->size();
        }
      }
      if (page->is_last()) break;
    }
    if (failed) continue;
    ++e->result_.users_verified;
    if (!left.empty()) {
      ++e->result_.users_with_data;
      json::object items;
      for (auto const& [k, n] : left) items[k] = n;
      e->print(json::object{{"event", "remaining"}, {"userId", printable_id(entry->id)}, {"items", std::move(items)}});
    }
  }
}

asio::awaitable<void> eraser::run_workers(eraser* e, worker_function worker) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  std::size_t left = std::max<std::size_t>(1, e->settings_.concurrency);
  std::size_t const n = left;
  std::exception_ptr failure;
  e->workers_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    auto& sig = e->workers_.emplace_back();
    // No cancellation slot on the worker itself: see stop().
    asio::co_spawn(ex, worker(e, &sig), [&left, &all_done, &failure](std::exception_ptr ep) {
      if (ep && !failure) failure = ep;
      if (--left == 0) all_done.cancel();
    });
  }
  while (left > 0) (void)co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  e->workers_.clear();
  if (failure) std::rethrow_exception(failure);
}

std::string eraser::progress_line() const {
  auto const elapsed = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - started_);
  switch (phase_) {
    case phase::queue:
      return fmt::format("queueing: {} jobs for {} users | {}", result_.jobs_queued, result_.users,
                         format_clock(elapsed));
    case phase::wait: {
      std::int64_t tasks = 0;
      bool known = true;
      for (auto const& j : jobs_) {
        if (j.completed) continue;
        if (j.tasks_left < 0) known = false;
        else tasks += j.tasks_left;
      }
      return fmt::format("waiting: {}/{} jobs complete | tasks left {}{} | {}", result_.jobs_completed,
                         jobs_.size(), tasks, known ? "" : "+", format_clock(elapsed));
    }
    case phase::verify:
      return fmt::format("verifying: {} users checked, {} with data left | {}",
                         result_.users_verified + result_.users_unverified, result_.users_with_data,
                         format_clock(elapsed));
    case phase::done: break;
  }
  return {};
}

asio::awaitable<void> eraser::tick_progress(eraser* e) {
  auto const interval = e->con_.redraws() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  while (e->phase_ != phase::done) {
    e->progress_timer_->expires_after(interval);
    auto [ec] = co_await e->progress_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || e->phase_ == phase::done) break;
    e->con_.progress(e->progress_line());
  }
}

asio::awaitable<void> eraser::watch_signals(eraser* e) {
  for (;;) {
    auto [ec, sig] = co_await e->signals_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (e->signal_ != 0) std::_Exit(exit_code::interrupted_base + sig);
    e->signal_ = sig;
    e->con_.note(fmt::format("velt-gdpr: {}: stopping (a second signal exits at once)",
                             sig == SIGINT ? "SIGINT" : "SIGTERM"));
    e->stop();
  }
}

asio::awaitable<void> eraser::flow(eraser* e) {
  co_await run_workers(e, &eraser::queue_worker);
  if (e->settings_.wait && !e->stopping_ && !e->jobs_.empty()) {
    e->phase_ = phase::wait;
    e->wait_deadline_ = steady_clock::now() + e->settings_.timeout;
    co_await run_workers(e, &eraser::wait_worker);
  }
  if (e->settings_.verify && !e->stopping_) {
    e->phase_ = phase::verify;
    e->users_ = std::make_unique<users_source>(e->settings_.users);
    co_await run_workers(e, &eraser::verify_worker);
    if (!e->stopping_) {
      e->print(json::object{{"event", "verified"},
                            {"users", e->result_.users_verified},
                            {"usersWithData", e->result_.users_with_data},
                            {"usersUnverified", e->result_.users_unverified}});
    }
  }
  e->phase_ = phase::done;
  if (e->progress_timer_) e->progress_timer_->cancel();
  if (e->signals_) e->signals_->cancel();
  e->client_->close_idle_connections();
}

erase_result eraser::run() {
  progress_timer_.emplace(io_);
  if (settings_.handle_signals) {
    signals_.emplace(io_, SIGINT, SIGTERM);
    asio::co_spawn(io_, watch_signals(this), asio::detached);
  }
  if (con_.shows_progress()) asio::co_spawn(io_, tick_progress(this), asio::detached);
  std::exception_ptr failure;
  asio::co_spawn(io_, flow(this), [&failure](std::exception_ptr ep) { failure = ep; });
  io_.run();
  con_.end_progress();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (std::exception const& ex) {
      con_.error(std::string("internal error: ") + ex.what());
    }
  }
  result_.signal = signal_;
  result_.credentials_refused = credentials_refused_;
  if (signal_) {
    result_.exit_code = exit_code::interrupted_base + signal_;
  } else if (credentials_refused_ && result_.jobs_queued == 0) {
    result_.exit_code = exit_code::usage;
  } else if (failure || credentials_refused_ || result_.batches_failed > 0 || result_.jobs_unfinished > 0 ||
             result_.users_with_data > 0 || result_.users_unverified > 0) {
    result_.exit_code = exit_code::failures;
  } else {
    result_.exit_code = exit_code::ok;
  }
  return result_;
}

// ---- erase-status ---------------------------------------------------------------------------

asio::awaitable<int> print_statuses(velt::client client, std::vector<std::string> job_ids, std::FILE* out) {
  int rc = exit_code::ok;
  for (auto const& id : job_ids) {
    velt::delete_status_request request{.job_id = id};
    velt::error_details details;
    auto [ec, status] = co_await client.async_get_delete_user_data_status(std::move(request), details,
                                                                         asio::as_tuple(asio::use_awaitable));
    json::object line{{"jobId", id}};
    if (ec) {
      if (!details.code) details = velt::make_error_details(ec, ec.message());
      line["error"] = error_json(details);
      rc = exit_code::failures;
    } else {
      line["isDeleteCompleted"] = status.is_delete_completed;
      line["tasksLeft"] = status.tasks_left;
      if (status.last_task_completed_time) {
        line["lastTaskCompletedTime"] = *status.last_task_completed_time;
      } else {
        line["lastTaskCompletedTime"] = nullptr;
      }
    }
    std::string text = json::serialize(line);
    text += '\n';
    std::fputs(text.c_str(), out);
    std::fflush(out);
  }
  co_return rc;
}

}  // namespace

erase_result run_erase(erase_settings settings, console& con, std::FILE* out) {
  eraser e(std::move(settings), con, out);
  return e.run();
}

int run_erase_status(velt::client_options client, std::vector<std::string> const& job_ids,
                     console& con, std::FILE* out) {
  asio::io_context io;
  console* c = &con;
  client.log = [c](velt::log_level level, std::string_view line) { c->log(level, line); };
  std::optional<velt::client> cl;
  try {
    cl.emplace(io.get_executor(), std::move(client));
  } catch (velt::error const& e) {
    throw erase_setup_error(e.details().message.empty() ? e.what() : e.details().message);
  }
  int rc = exit_code::failures;
  std::exception_ptr failure;
  asio::co_spawn(io, print_statuses(*cl, job_ids, out), [&](std::exception_ptr ep, int r) {
    failure = ep;
    rc = r;
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (std::exception const& ex) {
      con.error(std::string("internal error: ") + ex.what());
    }
    return exit_code::failures;
  }
  return rc;
}

}  // namespace velt::gdpr
