// SPDX-License-Identifier: BSL-1.0
#include "batch/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace velt::detail {

page_failure classify_page_failure(error_details const& e) noexcept {
  switch (classify(e)) {
    case failure_kind::throttled:
      return page_failure::throttled;
    case failure_kind::transport:
      // No answer. A TLS failure other than a truncated stream (certificate, protocol) is
      // configuration, not an outage: waiting cannot fix it.
      if (e.status == status::cancelled) return page_failure::final;
      if (!is_retryable(e.status)) return page_failure::final;
      return page_failure::outage;
    case failure_kind::server:
      if (e.http_status == 502 || e.http_status == 503 || e.http_status == 504 ||
          e.status == status::unavailable) {
        return page_failure::outage;
      }
      return is_retryable(e.status) ? page_failure::transient : page_failure::final;
  }
  return page_failure::final;
}

std::optional<pacing_clock::duration> throttle_wait(error_details const& e) {
  if (e.retry_after) return std::chrono::duration_cast<pacing_clock::duration>(*e.retry_after);
  if (auto hinted = parse_try_again_after(e.message)) {
    return std::chrono::duration_cast<pacing_clock::duration>(*hinted);
  }
  return std::nullopt;
}

pacing_clock::duration user_backoff(unsigned n, double u01) noexcept {
  double const exponent = n > 0 ? std::min<double>(n - 1, 16) : 0.0;
  double const ceiling_ms = std::min(5000.0, 200.0 * std::pow(2.0, exponent));
  double const u = std::clamp(u01, 0.0, 1.0);
  return std::chrono::duration_cast<pacing_clock::duration>(
      std::chrono::duration<double, std::milli>(ceiling_ms * u));
}

run_pacer::run_pacer(std::optional<double> max_rate, circuit_breaker_options breaker)
    : rate_(rate_controller_options{.max_rate = max_rate}), breaker_(breaker) {}

run_pacer::decision run_pacer::try_acquire(pacing_clock::time_point now) {
  std::lock_guard lock(mutex_);
  // The breaker first: while the upstream is down, no rate token is spent.
  auto const b = breaker_.try_acquire(now);
  // Waiters ask again 10 times a second, so that the run resumes soon after a probe finds
  // the upstream back (the breaker's own backoff only spaces the probes).
  if (!b.granted()) return {false, {}, std::min<pacing_clock::duration>(b.wait, std::chrono::milliseconds(100))};
  // The slow start is the rate controller's (on the rate, not on requests in flight: at a
  // few milliseconds per answer, two requests in flight are hundreds per second already).
  auto const r = rate_.try_acquire(now);
  if (!r.granted) {
    if (b.what == circuit_breaker::verdict::granted_as_probe) breaker_.release(true);
    return {false, {}, r.wait};
  }
  if (throttle_pause_since_ && !rate_.stats(now).paused_until) throttle_pause_since_.reset();
  return {true, pacer_permit{now, b.what == circuit_breaker::verdict::granted_as_probe}, {}};
}

run_pacer::change run_pacer::close_if_reopened(pacing_clock::time_point now, bool was_open) {
  change c;
  if (was_open && breaker_.current() == circuit_breaker::state::closed) {
    c.breaker_closed = true;
    c.paused_for = now - last_open_;
  }
  return c;
}

run_pacer::change run_pacer::on_answer(pacing_clock::time_point now, pacer_permit const& p,
                                       bool success) {
  std::lock_guard lock(mutex_);
  bool const was_open = breaker_.current() != circuit_breaker::state::closed;
  if (was_open) last_open_ = breaker_.open_since().value_or(now);
  if (success) {
    rate_.on_success(now);
    breaker_.on_success(now, p.probe);
  } else {
    // An answer that is not a page (a 4xx, a bad body): the server is up.
    breaker_.on_failure(now, /*outage=*/false, p.probe);
  }
  return close_if_reopened(now, was_open);
}

run_pacer::change run_pacer::on_throttled(pacing_clock::time_point now, pacer_permit const& p,
                                          std::optional<pacing_clock::duration> wait) {
  std::lock_guard lock(mutex_);
  bool const was_open = breaker_.current() != circuit_breaker::state::closed;
  if (was_open) last_open_ = breaker_.open_since().value_or(now);
  // A throttling answer is an answer: the upstream is up.
  breaker_.on_failure(now, /*outage=*/false, p.probe);
  change c = close_if_reopened(now, was_open);
  auto const before = rate_.stats(now).rate;
  if (rate_.on_throttled(now, p.sent, wait)) {
    c.rate_cut = true;
    c.rate_before = before;
    c.rate_after = rate_.stats(now).rate.value_or(0);
  }
  if (wait && !throttle_pause_since_) throttle_pause_since_ = now;
  return c;
}

run_pacer::change run_pacer::on_outage(pacing_clock::time_point now, pacer_permit const& p) {
  std::lock_guard lock(mutex_);
  change c;
  c.breaker_opened = breaker_.on_failure(now, /*outage=*/true, p.probe);
  return c;
}

void run_pacer::on_abandoned(pacer_permit const& p) {
  std::lock_guard lock(mutex_);
  breaker_.release(p.probe);
}

run_pacer::snapshot run_pacer::stats(pacing_clock::time_point now) const {
  std::lock_guard lock(mutex_);
  snapshot s;
  auto const r = rate_.stats(now);
  s.rate = r.rate;
  s.throttle_events = r.throttle_events;
  s.outages = breaker_.openings();
  if (auto since = breaker_.open_since()) {
    s.paused = pause::outage;
    s.paused_for = now - *since;
  } else if (r.paused_until) {
    s.paused = pause::throttled;
    s.paused_for = throttle_pause_since_ ? now - *throttle_pause_since_ : pacing_clock::duration{};
  }
  return s;
}

}  // namespace velt::detail
