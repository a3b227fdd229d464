// SPDX-License-Identifier: BSL-1.0
// batch_exporter: the run's bookkeeping. Users are pulled from the source only when a slot
// is free, each runs on a strand of its own (export_user.cpp), and the run completes once
// the source is exhausted (or the run stopped) and no user is left.
#include "batch/export_run.hpp"
#include "batch/pacing.hpp"
#include "batch/run_completion.hpp"

#include <velt/wire.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>

namespace velt {

namespace asio = boost::asio;
using detail::run_pacer;

namespace {

class vector_source final : public user_source {
 public:
  explicit vector_source(std::vector<std::string> ids) : ids_(std::move(ids)) {}
  asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) override {
    std::vector<std::string> out;
    while (out.size() < max && next_ < ids_.size()) out.push_back(std::move(ids_[next_++]));
    co_return out;
  }

 private:
  std::vector<std::string> ids_;
  std::size_t next_ = 0;
};

void refuse(std::string message) {
  throw error(make_error_details(make_error_code(errc::invalid_request), std::move(message)));
}

batch_options validated(batch_options o) {
  if (o.organization_id.empty()) refuse("batch_options::organization_id is empty");
  if (o.concurrency == 0) refuse("batch_options::concurrency must be at least 1");
  if (o.max_rate && !(*o.max_rate > 0 && std::isfinite(*o.max_rate))) {
    refuse("batch_options::max_rate must be a positive number of requests per second");
  }
  if (o.max_stall <= std::chrono::milliseconds::zero()) {
    refuse("batch_options::max_stall must be a positive duration");
  }
  if (o.credential_probe && o.credential_probe->empty()) {
    refuse("batch_options::credential_probe is an empty user id");
  }
  if (auto e = wire::validate_extra(o.request_extra, "batch_options::request_extra")) throw error(std::move(*e));
  return o;
}

}  // namespace

std::unique_ptr<user_source> users_from(std::vector<std::string> ids) {
  return std::make_unique<vector_source>(std::move(ids));
}

// ---- export_run --------------------------------------------------------------------------------

detail::export_run::export_run(client c, batch_options o)
    : cl(std::move(c)),
      options(std::move(o)),
      control(asio::make_strand(cl.get_executor())),
      pacer(options.max_rate),
      credentials(options.refusals_that_stop),
      attempts_per_page(cl.retry_policy().max_attempts) {}

void detail::export_run::progressed() noexcept {
  last_progress = std::chrono::steady_clock::now().time_since_epoch().count();
  progress_events += 1;
}

std::chrono::steady_clock::duration detail::export_run::since_progress(
    std::chrono::steady_clock::time_point now) const noexcept {
  return now - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_progress.load()));
}

void detail::export_run::waited_for(error_details const& e) {
  std::lock_guard lock(wait_mutex);
  last_wait_error = e;
}

void detail::export_run::completed_before(std::string const& user) {
  if (options.credential_probe) return;
  std::lock_guard lock(probe_mutex);
  if (!probe_started) probe_user = user;
}

void detail::export_run::stop_because(batch_result::end reason, error_details details,
                                             bool worked_before) {
  {
    std::lock_guard lock(end_mutex);
    if (how == batch_result::end::complete) {
      how = reason;
      why = std::move(details);
      credentials_worked_before = worked_before;
    }
  }
  request_stop();
}

namespace {

using run_ptr = std::shared_ptr<detail::export_run>;

using run_completion = detail::run_completion<batch_result>;

void maybe_done(run_ptr const& run);

void finished(run_ptr const& run, std::shared_ptr<active_user> const& a) {
  run->active.erase(a);
  run->count.in_flight -= 1;
  if (run->slot_timer) run->slot_timer->cancel();
  maybe_done(run);
}

void launch(run_ptr const& run, std::string user) {
  auto a = std::make_shared<active_user>(asio::make_strand(run->cl.get_executor()));
  run->active.insert(a);
  run->count.in_flight += 1;
  run->count.started += 1;
  asio::co_spawn(a->strand, detail::export_user(run, a, std::move(user)),
                 asio::bind_cancellation_slot(
                     a->signal.slot(),
                     asio::bind_executor(run->control, [run, a](std::exception_ptr) { finished(run, a); })));
}

asio::awaitable<void> feed(run_ptr run) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::size_t const concurrency = run->options.concurrency;
  try {
    for (;;) {
      while (run->count.in_flight >= concurrency && !run->stopping) {
        run->slot_timer->expires_at(asio::steady_timer::time_point::max());
        (void)co_await run->slot_timer->async_wait(asio::as_tuple(asio::use_awaitable));
      }
      if (run->stopping) break;
      std::vector<std::string> batch = co_await run->source->async_pull(concurrency - run->count.in_flight);
      if (batch.empty()) break;
      for (auto& user : batch) {
        if (run->stopping) break;
        launch(run, std::move(user));
      }
    }
  } catch (std::exception const& e) {
    run->stop_because(batch_result::end::source_failed,
                      make_error_details(make_error_code(status::internal), e.what()));
  }
  run->feeding = false;
  maybe_done(run);
}

void maybe_done(run_ptr const& run) {
  if (!run->running || run->feeding || !run->active.empty()) return;
  batch_result result;
  {
    std::lock_guard lock(run->end_mutex);
    result.how = run->how;
    result.error = run->why;
    result.credentials_worked_before = run->credentials_worked_before;
  }
  result.stats = run->stats();
  run->source.reset();
  run->sinks = nullptr;
  run->slot_timer.reset();
  if (run->stall_timer) run->stall_timer->cancel();
  auto handler = std::move(*run->handler);
  run->handler.reset();
  run->running = false;
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) slot.clear();
  asio::post(run->control, run_completion{std::move(handler), {}, std::move(result), run->control});
}

}  // namespace

void detail::export_run::request_stop() {
  stopping = true;
  asio::post(control, [self = shared_from_this()] {
    if (self->slot_timer) self->slot_timer->cancel();
    for (auto const& a : self->active) {
      asio::post(a->strand, [a] {
        if (a->running) a->signal.emit(asio::cancellation_type::terminal);
      });
    }
  });
}

namespace {

/// Stops the run when it has made no progress for `max_stall` (see batch_options).
asio::awaitable<void> watch_progress(run_ptr run, std::uint64_t generation) {
  using namespace std::chrono_literals;
  asio::steady_timer timer(run->control);
  run->stall_timer = &timer;
  auto const step = std::clamp<asio::steady_timer::duration>(run->options.max_stall / 4, 10ms, 1s);
  for (;;) {
    timer.expires_after(step);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (run->generation != generation || !run->running || run->stopping) break;
    if (run->count.in_flight == 0) continue;
    if (run->since_progress(std::chrono::steady_clock::now()) < run->options.max_stall) continue;
    error_details why;
    {
      std::lock_guard lock(run->wait_mutex);
      why = run->last_wait_error;
    }
    if (!why.code) why = make_error_details(make_error_code(errc::deadline_exceeded), "no answer");
    run->stop_because(batch_result::end::stalled, std::move(why));
    break;
  }
  if (run->stall_timer == &timer) run->stall_timer = nullptr;
}

}  // namespace

batch_stats detail::export_run::stats() const {
  batch_stats s;
  s.users_started = count.started;
  s.users_complete = count.complete;
  s.users_skipped = count.skipped;
  s.users_failed = count.failed;
  s.users_stopped = count.stopped;
  s.in_flight = count.in_flight;
  s.pages = count.pages;
  s.items = count.items;
  auto const now = std::chrono::steady_clock::now();
  auto const p = pacer.stats(now);
  s.rate = p.rate;
  s.throttle_events = p.throttle_events;
  s.outages = p.outages;
  s.retries = count.retries;
  switch (p.paused) {
    case run_pacer::pause::none: s.paused = batch_stats::pause::none; break;
    case run_pacer::pause::throttled: s.paused = batch_stats::pause::throttled; break;
    case run_pacer::pause::outage: s.paused = batch_stats::pause::outage; break;
  }
  s.paused_for = std::chrono::duration_cast<std::chrono::milliseconds>(p.paused_for);
  if (running) s.since_progress = std::chrono::duration_cast<std::chrono::milliseconds>(since_progress(now));
  return s;
}

// ---- batch_exporter ---------------------------------------------------------------------------

batch_exporter::batch_exporter(client c, batch_options options)
    : run_(std::make_shared<detail::export_run>(std::move(c), validated(std::move(options)))) {}

batch_exporter::~batch_exporter() = default;

void batch_exporter::start(std::unique_ptr<user_source> users, sink_factory sinks,
                           asio::any_completion_handler<run_signature> handler) {
  auto run = run_;
  if (!users || !sinks || run->running.exchange(true)) {
    asio::post(run->control, run_completion{std::move(handler), make_error_code(errc::invalid_request), {}, run->control});
    return;
  }
  // A new run: nothing of it runs yet, so its state can be reset here.
  run->stopping = false;
  {
    std::lock_guard lock(run->end_mutex);
    run->how = batch_result::end::complete;
    run->why = error_details{};
    run->credentials_worked_before = false;
  }
  for (auto* c : {&run->count.started, &run->count.complete, &run->count.skipped, &run->count.failed,
                  &run->count.stopped, &run->count.pages, &run->count.items, &run->count.retries}) {
    c->store(0);
  }
  run->progressed();
  {
    std::lock_guard lock(run->wait_mutex);
    run->last_wait_error = error_details{};
  }
  {
    std::lock_guard lock(run->probe_mutex);
    run->probe_user = run->options.credential_probe;
    run->probe_started = false;
  }
  // Forward the caller's cancellation to stop(); the slot is cleared before completing.
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) {
    slot.assign([weak = std::weak_ptr<detail::export_run>(run)](asio::cancellation_type) {
      if (auto r = weak.lock()) r->stop_because(batch_result::end::stopped, {});
    });
  }
  asio::dispatch(run->control, [run, users = std::move(users), sinks = std::move(sinks),
                                handler = std::move(handler)]() mutable {
    run->source = std::move(users);
    run->sinks = std::move(sinks);
    run->handler.emplace(std::move(handler));
    run->slot_timer.emplace(run->control);
    run->feeding = true;
    run->generation += 1;
    asio::co_spawn(run->control, feed(run), asio::detached);
    asio::co_spawn(run->control, watch_progress(run, run->generation), asio::detached);
  });
}

void batch_exporter::stop() {
  if (run_->running) run_->stop_because(batch_result::end::stopped, {});
}

batch_stats batch_exporter::stats() const { return run_->stats(); }

}  // namespace velt
