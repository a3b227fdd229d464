// SPDX-License-Identifier: BSL-1.0
#include "batch/pacing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace velt::detail {

aimd_window::aimd_window(std::size_t max, double decrease, throttle_clock::duration cooldown)
    : max_(std::max<std::size_t>(max, 1)),
      decrease_(decrease),
      cooldown_(cooldown),
      window_(static_cast<double>(max_)) {}

void aimd_window::on_success() noexcept {
  window_ = std::min(static_cast<double>(max_), window_ + 1.0 / window_);
}

bool aimd_window::on_throttled(throttle_clock::time_point now) noexcept {
  if (last_decrease_ && now - *last_decrease_ < cooldown_) return false;
  last_decrease_ = now;
  window_ = std::max(1.0, window_ * decrease_);
  return true;
}

std::size_t aimd_window::limit() const noexcept {
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(window_)));
}

rate_limiter::rate_limiter(double per_second, double burst) {
  if (!(per_second > 0)) throw std::invalid_argument("rate must be positive");
  interval_ = std::chrono::duration_cast<throttle_clock::duration>(
      std::chrono::duration<double>(1.0 / per_second));
  if (interval_.count() <= 0) interval_ = throttle_clock::duration(1);
  tolerance_ = std::chrono::duration_cast<throttle_clock::duration>(interval_ * (std::max(burst, 1.0) - 1.0));
}

throttle_clock::duration rate_limiter::wait_time(throttle_clock::time_point now) const noexcept {
  auto const earliest = tat_ - tolerance_;
  return earliest > now ? earliest - now : throttle_clock::duration::zero();
}

void rate_limiter::take(throttle_clock::time_point now) noexcept {
  tat_ = std::max(tat_, now) + interval_;
}

request_throttle::request_throttle(std::size_t max_in_flight, std::optional<double> rate)
    : window_(max_in_flight) {
  if (rate) rate_.emplace(*rate);
}

request_throttle::decision request_throttle::try_acquire(throttle_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now < paused_until_) return {false, paused_until_ - now};
  if (in_flight_ >= window_.limit()) return {false, poll_interval};
  if (rate_) {
    if (auto const w = rate_->wait_time(now); w > throttle_clock::duration::zero()) return {false, w};
    rate_->take(now);
  }
  ++in_flight_;
  return {true, {}};
}

void request_throttle::release(bool success) {
  std::lock_guard lock(mutex_);
  if (in_flight_ > 0) --in_flight_;
  if (success) window_.on_success();
}

bool request_throttle::on_throttled(throttle_clock::time_point now, throttle_clock::duration delay) {
  std::lock_guard lock(mutex_);
  ++throttle_events_;
  paused_until_ = std::max(paused_until_, now + delay);
  bool const decreased = window_.on_throttled(now);
  if (decreased) ++decreases_;
  return decreased;
}

request_throttle::snapshot request_throttle::stats() const {
  std::lock_guard lock(mutex_);
  return {in_flight_, window_.limit(), window_.max(), throttle_events_, decreases_};
}

}  // namespace velt::detail
