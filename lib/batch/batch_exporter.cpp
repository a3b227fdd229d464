// SPDX-License-Identifier: BSL-1.0
// batch_exporter: the run's bookkeeping. Users are pulled from the source only when a slot
// is free, each runs on a strand of its own (export_user.cpp), and the run completes once
// the source is exhausted (or the run stopped) and no user is left.
#include "batch/export_run.hpp"
#include "batch/run_completion.hpp"

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
      throttle(options.concurrency, options.max_rate),
      credentials(options.refusals_that_stop) {}

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
  auto const t = throttle.stats();
  s.window = t.limit;
  s.window_max = t.max;
  s.throttle_events = t.throttle_events;
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
                  &run->count.stopped, &run->count.pages, &run->count.items}) {
    c->store(0);
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
    asio::co_spawn(run->control, feed(run), asio::detached);
  });
}

void batch_exporter::stop() {
  if (run_->running) run_->stop_because(batch_result::end::stopped, {});
}

batch_stats batch_exporter::stats() const { return run_->stats(); }

}  // namespace velt
