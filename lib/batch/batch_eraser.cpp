// SPDX-License-Identifier: BSL-1.0
// batch_eraser: queue deletions in batches, wait for the jobs, verify by exporting again.
// The whole run lives on one strand; a task_group bounds the requests in flight.
#include "batch/run_completion.hpp"
#include "batch/run_rules.hpp"
#include "batch/task_group.hpp"

#include <velt/batch_erase.hpp>
#include <velt/wire.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <optional>

namespace velt {

namespace asio = boost::asio;

void erase_observer::on_queued(std::vector<std::string> const&, delete_job const&) {}
void erase_observer::on_not_queued(std::vector<std::string> const&, error_details const&) {}
void erase_observer::on_completed(std::string const&, delete_status const&) {}
void erase_observer::on_unfinished(std::string const&, error_details const&) {}
void erase_observer::on_verified(std::string const&, user_verification const&) {}
void erase_observer::on_remaining(std::string const&, std::map<std::string, std::uint64_t> const&) {}
void erase_observer::on_unverified(std::string const&, error_details const&) {}

bool erase_result::clean() const noexcept {
  return how == end::complete && stats.batches_failed == 0 && stats.jobs_unfinished == 0 &&
         stats.users_with_data == 0 && stats.users_unverified == 0;
}

namespace detail {

struct erase_run : std::enable_shared_from_this<erase_run> {
  erase_run(client c, erase_options o)
      : cl(std::move(c)), options(std::move(o)), control(asio::make_strand(cl.get_executor())) {}

  client const cl;
  erase_options const options;
  asio::strand<asio::any_io_executor> control;

  // ---- one run; "control" marks what only the strand touches --------------------------------
  source_factory make_users;                 ///< control
  erase_observer* events = nullptr;          ///< control (and the verify sinks, under stats_mutex)
  std::optional<asio::any_completion_handler<batch_eraser::run_signature>> handler;  ///< control
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::list<asio::cancellation_signal> waits;  ///< control: the signals of the waits in flight
  std::optional<batch_exporter> verifier;      ///< control
  bool any_queued = false;                     ///< control

  struct job {
    std::string id;
    std::atomic<std::int64_t> tasks_left{-1};  ///< -1 until polled
    std::atomic<bool> completed{false};
  };
  std::deque<job> jobs;  ///< grows on control during the queue phase only

  mutable std::mutex stats_mutex;  ///< guards the members below
  erase_stats counts;
  erase_result::end how = erase_result::end::complete;
  error_details why;

  void stop_because(erase_result::end reason, error_details details) {
    {
      std::lock_guard lock(stats_mutex);
      if (how == erase_result::end::complete) {
        how = reason;
        why = std::move(details);
      }
    }
    stopping = true;
    asio::post(control, [self = shared_from_this()] {
      for (auto& s : self->waits) s.emit(asio::cancellation_type::terminal);
      if (self->verifier) self->verifier->stop();
    });
  }

  template <class F>
  void update(F&& f) {
    std::lock_guard lock(stats_mutex);
    f(counts);
  }

  erase_stats stats() const {
    std::lock_guard lock(stats_mutex);
    erase_stats s = counts;
    if (s.at == erase_stats::phase::wait) {
      s.tasks_left = 0;
      s.tasks_left_known = true;
      // Jobs are only appended while queueing, before the wait phase reads them.
      for (auto const& j : jobs) {
        if (j.completed) continue;
        if (auto const t = j.tasks_left.load(); t < 0) s.tasks_left_known = false;
        else s.tasks_left += t;
      }
    }
    return s;
  }
};

namespace {

using run_ptr = std::shared_ptr<erase_run>;

/// Up to `n` ids from `src` (fewer only at its end).
asio::awaitable<std::vector<std::string>> pull_batch(user_source& src, std::size_t n) {
  std::vector<std::string> batch;
  while (batch.size() < n) {
    std::vector<std::string> more = co_await src.async_pull(n - batch.size());
    if (more.empty()) break;
    for (auto& id : more) batch.push_back(std::move(id));
  }
  co_return batch;
}

asio::awaitable<void> queue_one(run_ptr run, std::vector<std::string> users) {
  co_await asio::this_coro::throw_if_cancelled(false);
  delete_user_data_request request{.user_ids = users, .organization_ids = {run->options.organization_id}};
  error_details details;
  // Not cancellable: a call in flight may already have been queued, and its job id is worth
  // reporting. (The client's operations are safe to cancel; this one is let finish.)
  auto [ec, job] = co_await run->cl.async_delete_all_user_data(std::move(request), details,
                                                                asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    run->any_queued = true;
    run->jobs.emplace_back().id = job.job_id;
    run->update([&](erase_stats& s) {
      s.jobs_queued += 1;
      s.users += users.size();
    });
    run->events->on_queued(users, job);
    co_return;
  }
  if (!details.code) details = make_error_details(ec, ec.message());
  if (is_refusal(details.status) && !run->any_queued) {
    run->stop_because(erase_result::end::credentials_refused, details);
    co_return;
  }
  run->update([](erase_stats& s) { s.batches_failed += 1; });
  run->events->on_not_queued(users, details);
}

asio::awaitable<void> wait_one(run_ptr run, erase_run::job* j, asio::cancellation_signal* cancel,
                               std::chrono::steady_clock::time_point deadline) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  error_details details;
  boost::system::error_code ec;
  delete_status status;
  if (left.count() <= 0) {
    details = make_error_details(make_error_code(errc::deadline_exceeded),
                                 "deletion job " + j->id + " not complete before the timeout");
    ec = details.code;
  } else {
    wait_for_deletion_request request{.job_id = j->id,
                                      .poll_interval = run->options.poll_interval,
                                      .timeout = left,
                                      .on_progress = [j](delete_status const& s) { j->tasks_left = s.tasks_left; }};
    std::tie(ec, status) = co_await run->cl.async_wait_for_deletion(
        std::move(request), details, asio::bind_cancellation_slot(cancel->slot(), asio::as_tuple(asio::use_awaitable)));
  }
  if (!ec) {
    j->tasks_left = status.tasks_left;
    j->completed = true;
    run->update([](erase_stats& s) { s.jobs_completed += 1; });
    run->events->on_completed(j->id, status);
    co_return;
  }
  if (run->stopping) co_return;  // not unfinished: the run was stopped
  if (!details.code) details = make_error_details(ec, ec.message());
  run->update([](erase_stats& s) { s.jobs_unfinished += 1; });
  run->events->on_unfinished(j->id, details);
}

/// Counts what is left of one user.
class verify_sink final : public user_sink {
 public:
  verify_sink(run_ptr run, std::string user) : run_(std::move(run)), user_(std::move(user)) {}
  asio::awaitable<void> async_page(user_data_page page) override {
    for (auto const& f : page.raw_features())
      if (!f.items.empty()) left_[f.name] += f.items.size();
    co_return;
  }
  asio::awaitable<void> async_finish(user_outcome const& outcome) override {
    using state = user_outcome::state;
    if (outcome.what == state::skipped) co_return;
    if (outcome.what == state::stopped) {
      if (run_->stopping) co_return;  // the erase run was stopped: nothing to report
      // The verification stopped without this user, for want of progress (max_stall).
      std::lock_guard lock(run_->stats_mutex);
      run_->counts.users_unverified += 1;
      run_->events->on_unverified(
          user_, make_error_details(make_error_code(errc::deadline_exceeded),
                                    "not verified: the verification made no progress for max_stall"));
      co_return;
    }
    std::lock_guard lock(run_->stats_mutex);
    if (outcome.what == state::failed) {
      run_->counts.users_unverified += 1;
      run_->events->on_unverified(user_, outcome.error);
      co_return;
    }
    run_->counts.users_verified += 1;
    user_verification v{.pages = outcome.pages, .items = 0, .items_by_feature = left_};
    for (auto const& [name, n] : left_) v.items += n;
    run_->events->on_verified(user_, v);
    if (!left_.empty()) {
      run_->counts.users_with_data += 1;
      run_->events->on_remaining(user_, left_);
    }
  }

 private:
  run_ptr run_;
  std::string user_;
  std::map<std::string, std::uint64_t> left_;
};

void set_phase(erase_run& run, erase_stats::phase p) {
  run.update([p](erase_stats& s) { s.at = p; });
}

asio::awaitable<void> flow(run_ptr run) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto ex = co_await asio::this_coro::executor;
  erase_options const& o = run->options;
  try {
    task_group group(ex, o.concurrency);
    std::unique_ptr<user_source> users = run->make_users();
    for (;;) {
      co_await group.async_free_slot();
      if (run->stopping) break;
      std::vector<std::string> batch = co_await pull_batch(*users, o.batch_size);
      if (batch.empty()) break;
      group.spawn(queue_one(run, std::move(batch)));
    }
    co_await group.async_all_done();
  } catch (std::exception const& e) {
    run->stop_because(erase_result::end::source_failed, make_error_details(make_error_code(status::internal), e.what()));
  }
  if ((o.wait || o.verify) && !run->stopping && !run->jobs.empty()) {
    set_phase(*run, erase_stats::phase::wait);
    auto const deadline = std::chrono::steady_clock::now() + o.timeout;
    task_group group(ex, o.concurrency);
    for (auto& j : run->jobs) {
      co_await group.async_free_slot();
      if (run->stopping) break;
      auto* signal = &run->waits.emplace_back();
      auto it = std::prev(run->waits.end());
      group.spawn(wait_one(run, &j, signal, deadline), [run, it] { run->waits.erase(it); });
    }
    co_await group.async_all_done();
  }
  if (o.verify && !run->stopping) {
    set_phase(*run, erase_stats::phase::verify);
    run->verifier.emplace(run->cl, batch_options{.organization_id = o.organization_id,
                                                 .concurrency = o.concurrency,
                                                 .format = page_format::raw,
                                                 .request_extra = o.request_extra,
                                                 .max_rate = std::nullopt,
                                                 .max_stall = o.max_stall,
                                                 .refusals_that_stop = 0});  // every user reported
    std::unique_ptr<user_source> users;
    try {
      users = run->make_users();
    } catch (std::exception const& e) {
      run->stop_because(erase_result::end::source_failed, make_error_details(make_error_code(status::internal), e.what()));
    }
    if (users) {
      auto sinks = [run](std::string const& user) { return std::make_unique<verify_sink>(run, user); };
      batch_result const r = co_await run->verifier->async_run(std::move(users), sinks, asio::use_awaitable);
      if (r.how == batch_result::end::source_failed) run->stop_because(erase_result::end::source_failed, r.error);
      if (r.how == batch_result::end::stalled) run->stop_because(erase_result::end::stalled, r.error);
    }
    run->verifier.reset();
  }
  set_phase(*run, erase_stats::phase::done);
}

void finish(run_ptr const& run) {
  erase_result result;
  result.stats = run->stats();
  {
    std::lock_guard lock(run->stats_mutex);
    result.how = run->how;
    result.error = run->why;
    if (result.how == erase_result::end::complete && run->stopping) result.how = erase_result::end::stopped;
  }
  auto handler = std::move(*run->handler);
  run->handler.reset();
  run->make_users = nullptr;
  run->events = nullptr;
  run->running = false;
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) slot.clear();
  asio::post(run->control, run_completion<erase_result>{std::move(handler), {}, std::move(result), run->control});
}

void refuse(std::string message) {
  throw error(make_error_details(make_error_code(errc::invalid_request), std::move(message)));
}

erase_options validated(erase_options o) {
  if (o.organization_id.empty()) refuse("erase_options::organization_id is empty");
  if (o.batch_size == 0) refuse("erase_options::batch_size must be at least 1");
  if (o.concurrency == 0) refuse("erase_options::concurrency must be at least 1");
  if (o.poll_interval.count() <= 0) refuse("erase_options::poll_interval must be positive");
  if (o.max_stall.count() <= 0) refuse("erase_options::max_stall must be positive");
  if (auto e = wire::validate_extra(o.request_extra, "erase_options::request_extra")) throw error(std::move(*e));
  if (o.verify) o.wait = true;
  return o;
}

}  // namespace
}  // namespace detail

batch_eraser::batch_eraser(client c, erase_options options)
    : run_(std::make_shared<detail::erase_run>(std::move(c), detail::validated(std::move(options)))) {}

batch_eraser::~batch_eraser() = default;

void batch_eraser::start(source_factory users, erase_observer& events,
                         asio::any_completion_handler<run_signature> handler) {
  auto run = run_;
  if (!users || run->running.exchange(true)) {
    asio::post(run->control, detail::run_completion<erase_result>{
                                 std::move(handler), make_error_code(errc::invalid_request), {}, run->control});
    return;
  }
  run->stopping = false;
  {
    std::lock_guard lock(run->stats_mutex);
    run->counts = erase_stats{};
    run->how = erase_result::end::complete;
    run->why = error_details{};
  }
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) {
    slot.assign([weak = std::weak_ptr<detail::erase_run>(run)](asio::cancellation_type) {
      if (auto r = weak.lock()) r->stop_because(erase_result::end::stopped, {});
    });
  }
  asio::dispatch(run->control, [run, users = std::move(users), ev = &events, h = std::move(handler)]() mutable {
    run->make_users = std::move(users);
    run->events = ev;
    run->handler.emplace(std::move(h));
    run->jobs.clear();
    run->any_queued = false;
    asio::co_spawn(run->control, detail::flow(run), [run](std::exception_ptr) { detail::finish(run); });
  });
}

void batch_eraser::stop() {
  if (run_->running) run_->stop_because(erase_result::end::stopped, {});
}

erase_stats batch_eraser::stats() const { return run_->stats(); }

}  // namespace velt
