// SPDX-License-Identifier: BSL-1.0
#include "batch/circuit_breaker.hpp"

#include <algorithm>
#include <stdexcept>

namespace velt::detail {

circuit_breaker::circuit_breaker(circuit_breaker_options options) : opt_(options) {
  if (opt_.consecutive_failures == 0) throw std::invalid_argument("consecutive_failures must be >= 1");
  if (opt_.initial_backoff <= clock::duration::zero() || opt_.max_backoff < opt_.initial_backoff)
    throw std::invalid_argument("backoffs must be positive, initial <= max");
  if (opt_.window <= clock::duration::zero()) throw std::invalid_argument("window must be positive");
}

circuit_breaker::decision circuit_breaker::try_acquire(clock::time_point now) {
  switch (state_) {
    case state::closed:
      return {verdict::granted, {}};
    case state::half_open:
      // One probe at a time: ask again after a backoff (its answer will wake nobody).
      return {verdict::wait, backoff_};
    case state::open:
      if (now < next_probe_) return {verdict::wait, next_probe_ - now};
      state_ = state::half_open;
      return {verdict::granted_as_probe, {}};
  }
  return {verdict::wait, backoff_};
}

void circuit_breaker::record(clock::time_point now, bool outage) {
  recent_.push_back({now, outage});
  if (outage) ++recent_outages_;
  while (!recent_.empty() && recent_.front().at + opt_.window <= now) {
    if (recent_.front().outage) --recent_outages_;
    recent_.pop_front();
  }
}

void circuit_breaker::open(clock::time_point now) {
  state_ = state::open;
  opened_at_ = now;
  backoff_ = opt_.initial_backoff;
  next_probe_ = now + backoff_;
  failed_probes_ = 0;
  ++openings_;
}

void circuit_breaker::on_success(clock::time_point now, bool /*probe*/) {
  consecutive_ = 0;
  if (state_ == state::closed) {
    record(now, false);
    return;
  }
  // The upstream answered (the probe, or a request started before opening): close.
  paused_before_ += std::max(clock::duration::zero(), now - opened_at_);
  state_ = state::closed;
  failed_probes_ = 0;
  recent_.clear();  // old outage answers must not reopen it at once
  recent_outages_ = 0;
}

bool circuit_breaker::on_failure(clock::time_point now, bool outage, bool probe) {
  if (state_ == state::closed) {
    record(now, outage);
    if (!outage) {
      consecutive_ = 0;  // the upstream answered
      return false;
    }
    ++consecutive_;
    bool const by_ratio = recent_.size() >= opt_.min_answers &&
                          static_cast<double>(recent_outages_) >=
                              opt_.failure_ratio * static_cast<double>(recent_.size());
    if (consecutive_ < opt_.consecutive_failures && !by_ratio) return false;
    consecutive_ = 0;
    open(now);
    return true;
  }
  if (!outage) {
    // The upstream answered (with an error of its own): it is up.
    on_success(now, probe);
    return false;
  }
  if (!probe) return false;  // requests started before opening: already accounted for
  ++failed_probes_;
  backoff_ = std::min(backoff_ * 2, opt_.max_backoff);
  next_probe_ = now + backoff_;
  state_ = state::open;
  return false;
}

void circuit_breaker::release(bool probe) {
  if (probe && state_ == state::half_open) {
    state_ = state::open;  // next_probe_ is already past: the next ask probes again
  }
}

std::optional<circuit_breaker::clock::time_point> circuit_breaker::open_since() const noexcept {
  if (state_ == state::closed) return std::nullopt;
  return opened_at_;
}

circuit_breaker::clock::duration circuit_breaker::paused_for(clock::time_point now) const noexcept {
  if (state_ == state::closed) return paused_before_;
  return paused_before_ + std::max(clock::duration::zero(), now - opened_at_);
}

}  // namespace velt::detail
