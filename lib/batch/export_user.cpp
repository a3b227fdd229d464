// SPDX-License-Identifier: BSL-1.0
// The coroutine of one user of a batch export: where to start, the page chain (paced by
// the run), the restart after a refused page token, and the user's end.
#include "batch/export_run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <random>

namespace velt {

boost::asio::awaitable<resume_point> user_sink::async_start() { co_return resume_point{}; }
boost::asio::awaitable<void> user_sink::async_restart(error_details const&) { co_return; }

namespace detail {
namespace {

namespace asio = boost::asio;
using run_type = export_run;

/// Waits until the run's pacing lets one more page request start. None when the run is
/// stopping (or the wait was cancelled).
asio::awaitable<std::optional<pacer_permit>> acquire_permit(run_type& run) {
  std::optional<asio::steady_timer> timer;
  for (;;) {
    if (run.stopping) co_return std::nullopt;
    auto const d = run.pacer.try_acquire(pacing_clock::now());
    if (d.granted) co_return d.permit;
    if (!timer) timer.emplace(co_await asio::this_coro::executor);
    timer->expires_after(d.wait);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
  }
}

/// Sleeps for `d`; false when the run is stopping or the wait was cancelled.
asio::awaitable<bool> sleep_for(run_type& run, pacing_clock::duration d) {
  if (d > pacing_clock::duration::zero()) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return false;
  }
  co_return !run.stopping;
}

double uniform01() {
  thread_local std::minstd_rand gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

/// Tells the caller's callbacks what a report to the pacer changed.
void announce(run_type& run, run_pacer::change const& c, error_details const& e,
              std::optional<pacing_clock::duration> wait = std::nullopt) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (c.breaker_closed && run.options.on_outage) {
    run.options.on_outage(outage_event{false, nullptr, duration_cast<milliseconds>(c.paused_for)});
  }
  if (c.breaker_opened && run.options.on_outage) run.options.on_outage(outage_event{true, &e, {}});
  if (c.rate_cut && run.options.on_slow_down) {
    run.options.on_slow_down(slow_down_event{e, c.rate_before, c.rate_after,
                                             duration_cast<milliseconds>(wait.value_or(pacing_clock::duration{}))});
  }
}

enum class fetch_end { complete, stopped, failed };
struct fetch_result {
  fetch_end how = fetch_end::complete;
  error_details error;
};

/// Outage answers that count against one user when the rest of the run made progress
/// meanwhile, as a multiple of `attempts_per_page` (an upstream that sheds load answers
/// some requests with 503 for a while: that is not about the user).
constexpr unsigned outage_attempts_factor = 4;

/// Streams the user's pages, from `from`, into `sink`. Each request is one attempt, paced
/// by the run; a failed one is asked again on a new stream from the same page token:
/// throttling and outages for as long as the run has patience, other retryable failures
/// `attempts_per_page` times. Sink exceptions propagate.
asio::awaitable<fetch_result> fetch_pages(run_type& run, user_sink& sink, std::string const& user,
                                          resume_point from, user_outcome& out) {
  std::optional<std::string> token = std::move(from.page_token);
  std::size_t next_index = from.pages;
  unsigned failures = 0;       // of the current page, in a row, throttling aside
  unsigned about_user = 0;     // of those, answers about this user (500s)
  unsigned outage_counted = 0; // outage answers while the rest of the run progressed
  for (;;) {
    // A failed stream cannot be asked again: each try is a new stream from `token`.
    user_data_request request{.organization_id = run.options.organization_id, .user_id = user,
                              .page_token = token, .extra = run.options.request_extra};
    page_stream stream = run.cl.async_fetch_all_user_data(
        std::move(request), fetch_options{.format = run.options.format, .max_attempts = 1});
    for (;;) {
      std::optional<pacer_permit> permit = co_await acquire_permit(run);
      if (!permit) co_return fetch_result{fetch_end::stopped, {}};
      std::uint64_t const progress_before = run.progress_events;
      auto [ec, page] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
      auto const now = pacing_clock::now();
      if (!ec) {
        announce(run, run.pacer.on_answer(now, *permit, true), {});
        if (!page) co_return fetch_result{fetch_end::complete, {}};
        failures = about_user = outage_counted = 0;
        bool const last = page->is_last();
        std::size_t const items = page->item_count();
        token = page->next_page_token();
        page->set_index(next_index++);
        run.credentials.on_page();
        co_await sink.async_page(std::move(*page));
        page.reset();
        out.pages += 1;
        out.items += items;
        run.count.pages += 1;
        run.count.items += items;
        run.progressed();
        if (last) co_return fetch_result{fetch_end::complete, {}};
        continue;
      }
      if (canonical_status(ec) == status::cancelled) {
        run.pacer.on_abandoned(*permit);
        if (run.stopping) co_return fetch_result{fetch_end::stopped, {}};
      }
      error_details d = stream.last_error();
      if (!d.code) d = make_error_details(ec, ec.message());
      page_failure const kind = classify_page_failure(d);
      switch (kind) {
        case page_failure::throttled: {
          auto const wait = throttle_wait(d);
          announce(run, run.pacer.on_throttled(now, *permit, wait), d, wait);
          run.waited_for(d);
          break;
        }
        case page_failure::outage:
          announce(run, run.pacer.on_outage(now, *permit), d);
          run.waited_for(d);
          ++failures;
          if (run.progress_events != progress_before) ++outage_counted;
          break;
        case page_failure::transient:
          announce(run, run.pacer.on_answer(now, *permit, false), d);
          ++failures;
          ++about_user;
          break;
        case page_failure::final:
          if (canonical_status(ec) != status::cancelled) {
            announce(run, run.pacer.on_answer(now, *permit, false), d);
          }
          co_return fetch_result{fetch_end::failed, std::move(d)};
      }
      if (about_user >= run.attempts_per_page ||
          outage_counted >= outage_attempts_factor * run.attempts_per_page) {
        d.attempts = failures;
        co_return fetch_result{fetch_end::failed, std::move(d)};
      }
      run.count.retries += 1;
      // Throttled requests wait in acquire_permit (the rate, a Retry-After); the others
      // back off here too, as the breaker only opens after several of them.
      // While the run is paused for an outage the breaker holds every user back: no backoff
      // of its own, so that the run resumes at once when the upstream answers again.
      bool const paused = kind == page_failure::outage &&
                          run.pacer.stats(pacing_clock::now()).paused == run_pacer::pause::outage;
      if (kind != page_failure::throttled && !paused &&
          !co_await sleep_for(run, user_backoff(failures, uniform01()))) {
        co_return fetch_result{fetch_end::stopped, {}};
      }
      break;
    }
  }
}

/// Fetches the first page of the credential probe: a page says the credentials work, a
/// refusal that they do not; anything else says nothing.
asio::awaitable<void> run_probe(run_type& run, std::string user) {
  user_data_request request{.organization_id = run.options.organization_id, .user_id = std::move(user),
                            .extra = run.options.request_extra};
  page_stream stream = run.cl.async_fetch_all_user_data(std::move(request),
                                                        fetch_options{.format = page_format::raw});
  auto [ec, page] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    run.credentials.on_page();
  } else if (is_refusal(stream.last_error().status)) {
    run.credentials.on_probe_refused();
  }
}

enum class evidence { user_failure, credentials_refused, run_stopping };

/// Waits for evidence about the credentials (run_rules.hpp): runs the probe as soon as
/// there is one (once per run), and asks the watch until it decides.
asio::awaitable<evidence> await_evidence(run_type& run) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    // Other users may still bring evidence: a page, or (ending as complete in the sink) a
    // probe candidate, which they name before they end; so they are counted first.
    bool const others = run.count.in_flight > run.count.awaiting_evidence;
    std::optional<std::string> probe;
    {
      std::lock_guard lock(run.probe_mutex);
      // The source is set before the first user starts and kept until the last one ends.
      if (!run.probe_user && run.source) run.probe_user = run.source->exported_before();
      if (!run.probe_started && run.probe_user) {
        run.probe_started = true;
        probe = run.probe_user;
        run.probing = true;
      }
    }
    if (probe) {
      co_await run_probe(run, std::move(*probe));
      run.probing = false;
      continue;  // judge with the probe's answer
    }
    switch (run.credentials.pending(run.probing || others)) {
      case credential_watch::verdict::user_failure: co_return evidence::user_failure;
      case credential_watch::verdict::stop_run: co_return evidence::credentials_refused;
      case credential_watch::verdict::wait: break;
    }
    if (run.stopping) co_return evidence::run_stopping;
    timer.expires_after(std::chrono::milliseconds(20));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return evidence::run_stopping;
  }
}

/// A failure the server gave for this user: the user's own, or a sign that the run's
/// credentials do not work (then the run stops and the user is only not done).
asio::awaitable<void> settle_failure(run_type& run, error_details error, user_outcome& out) {
  out.error = std::move(error);
  evidence e = evidence::user_failure;
  switch (run.credentials.on_failure(out.error.status)) {
    case credential_watch::verdict::user_failure: break;
    case credential_watch::verdict::stop_run: e = evidence::credentials_refused; break;
    case credential_watch::verdict::wait:
      run.count.awaiting_evidence += 1;
      e = co_await await_evidence(run);
      run.count.awaiting_evidence -= 1;
      break;
  }
  if (e == evidence::run_stopping) {
    out.what = user_outcome::state::stopped;
    co_return;
  }
  if (e == evidence::credentials_refused) {
    out.what = user_outcome::state::stopped;
    run.stop_because(batch_result::end::credentials_refused, out.error, run.credentials.any_page());
    co_return;
  }
  {
    std::lock_guard lock(run.end_mutex);
    if (run.how == batch_result::end::credentials_refused && is_refusal(out.error.status)) {
      out.what = user_outcome::state::stopped;  // refused like the users that stopped the run
      co_return;
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
      run->completed_before(user);
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
        case fetch_end::failed: co_await settle_failure(*run, std::move(r.error), out); break;
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

  run->progressed();
  switch (out.what) {
    case user_outcome::state::complete: run->count.complete += 1; break;
    case user_outcome::state::skipped: run->count.skipped += 1; break;
    case user_outcome::state::failed: run->count.failed += 1; break;
    case user_outcome::state::stopped: run->count.stopped += 1; break;
  }
}

}  // namespace detail
}  // namespace velt
