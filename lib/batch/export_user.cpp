// SPDX-License-Identifier: BSL-1.0
// The coroutine of one user of a batch export: where to start, the page chain (paced by
// the run), the restart after a refused page token, and the user's end.
#include "batch/export_run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace velt {

boost::asio::awaitable<resume_point> user_sink::async_start() { co_return resume_point{}; }
boost::asio::awaitable<void> user_sink::async_restart(error_details const&) { co_return; }

namespace detail {
namespace {

namespace asio = boost::asio;
using run_type = export_run;

/// Waits until the run's pacing lets one more page request start. False when the run is
/// stopping (or the wait was cancelled).
asio::awaitable<bool> acquire_permit(run_type& run) {
  std::optional<asio::steady_timer> timer;
  for (;;) {
    if (run.stopping) co_return false;
    auto const d = run.throttle.try_acquire(throttle_clock::now());
    if (d.granted) co_return true;
    if (!timer) timer.emplace(co_await asio::this_coro::executor);
    timer->expires_after(d.wait);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return false;
  }
}

enum class fetch_end { complete, stopped, failed };
struct fetch_result {
  fetch_end how = fetch_end::complete;
  error_details error;
};

void on_retry(run_type* run, retry_event const& ev) {
  if (ev.why != failure_kind::throttled) return;
  std::size_t const before = run->throttle.stats().limit;
  if (!run->throttle.on_throttled(throttle_clock::now(), ev.delay)) return;
  if (run->options.on_slow_down) {
    run->options.on_slow_down(slow_down_event{ev.error, before, run->throttle.stats().limit, ev.delay});
  }
}

/// Streams the user's pages, from `from`, into `sink`. Sink exceptions propagate.
asio::awaitable<fetch_result> fetch_pages(run_type& run, user_sink& sink, std::string const& user,
                                          resume_point from, user_outcome& out) {
  user_data_request request{.organization_id = run.options.organization_id,
                            .user_id = user,
                            .page_token = std::move(from.page_token)};
  fetch_options how{.format = run.options.format,
                    .on_retry = [r = &run](retry_event const& ev) { on_retry(r, ev); }};
  page_stream stream = run.cl.async_fetch_all_user_data(std::move(request), std::move(how));
  for (;;) {
    if (!co_await acquire_permit(run)) co_return fetch_result{fetch_end::stopped, {}};
    auto [ec, page] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
    run.throttle.release(!ec);
    if (ec) {
      if (run.stopping && canonical_status(ec) == status::cancelled) {
        co_return fetch_result{fetch_end::stopped, {}};
      }
      error_details d = stream.last_error();
      if (!d.code) d = make_error_details(ec, ec.message());
      co_return fetch_result{fetch_end::failed, std::move(d)};
    }
    if (!page) co_return fetch_result{fetch_end::complete, {}};
    bool const last = page->is_last();
    std::size_t const items = page->item_count();
    page->set_index(from.pages + page->index());
    run.credentials.on_page();
    co_await sink.async_page(std::move(*page));
    page.reset();
    out.pages += 1;
    out.items += items;
    run.count.pages += 1;
    run.count.items += items;
    if (last) co_return fetch_result{fetch_end::complete, {}};
  }
}

/// A failure the server gave for this user: the user's own, or a sign that the run's
/// credentials do not work (then the run stops and the user is only not done).
void settle_failure(run_type& run, error_details error, user_outcome& out) {
  out.error = std::move(error);
  if (run.credentials.on_failure(out.error.status) == credential_watch::verdict::stop_run) {
    out.what = user_outcome::state::stopped;
    run.stop_because(batch_result::end::credentials_refused, out.error, run.credentials.any_page());
    return;
  }
  {
    std::lock_guard lock(run.end_mutex);
    if (run.how == batch_result::end::credentials_refused && is_refusal(out.error.status)) {
      out.what = user_outcome::state::stopped;  // refused like the users that stopped the run
      return;
    }
  }
  out.what = user_outcome::state::failed;
}

error_details sink_error(std::exception const& e) {
  return make_error_details(make_error_code(status::internal), e.what());
}

}  // namespace

asio::awaitable<void> export_user(std::shared_ptr<run_type> run, std::shared_ptr<active_user> a,
                                  std::string user) {
  co_await asio::this_coro::throw_if_cancelled(false);
  a->running = true;
  struct ended {
    active_user* a;
    ~ended() { a->running = false; }
  } const on_exit{a.get()};

  user_outcome out;
  std::unique_ptr<user_sink> sink;
  try {
    sink = run->sinks(user);
    if (!sink) throw std::runtime_error("the sink factory gave no sink");
    resume_point from = co_await sink->async_start();
    if (from.complete) {
      out.what = user_outcome::state::skipped;
    } else {
      bool const resumed = from.page_token.has_value();
      fetch_result r = co_await fetch_pages(*run, *sink, user, from, out);
      if (resumed && r.how == fetch_end::failed && out.pages == 0 && is_token_rejection(r.error.status)) {
        co_await sink->async_restart(r.error);
        r = co_await fetch_pages(*run, *sink, user, resume_point{}, out);
      }
      switch (r.how) {
        case fetch_end::complete: out.what = user_outcome::state::complete; break;
        case fetch_end::stopped: out.what = user_outcome::state::stopped; break;
        case fetch_end::failed: settle_failure(*run, std::move(r.error), out); break;
      }
    }
  } catch (std::exception const& e) {
    out.what = user_outcome::state::failed;
    out.sink_failed = true;
    out.error = sink_error(e);
  }

  co_await asio::this_coro::reset_cancellation_state();
  if (sink) {
    try {
      co_await sink->async_finish(out);
    } catch (std::exception const& e) {
      if (!out.sink_failed) {
        out.what = user_outcome::state::failed;
        out.sink_failed = true;
        out.error = sink_error(e);
      }
    }
  }
  if (out.sink_failed) run->stop_because(batch_result::end::sink_failed, out.error);

  switch (out.what) {
    case user_outcome::state::complete: run->count.complete += 1; break;
    case user_outcome::state::skipped: run->count.skipped += 1; break;
    case user_outcome::state::failed: run->count.failed += 1; break;
    case user_outcome::state::stopped: run->count.stopped += 1; break;
  }
}

}  // namespace detail
}  // namespace velt
