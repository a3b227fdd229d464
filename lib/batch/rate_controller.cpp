// SPDX-License-Identifier: BSL-1.0
#include "batch/rate_controller.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>

namespace velt::detail {

namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

std::int64_t rate_meter::index_of(clock::time_point t) noexcept {
  auto const n = t.time_since_epoch().count();
  auto const w = bucket_width.count();
  return n >= 0 ? n / w : -((-n + w - 1) / w);
}

void rate_meter::record(clock::time_point now) noexcept {
  auto const idx = index_of(now);
  if (!first_) {
    first_ = now;
    newest_ = idx;
  } else if (idx > newest_) {
    // Clear the buckets skipped since the newest one (all of them after a long gap).
    auto const steps = std::min<std::int64_t>(idx - newest_, static_cast<std::int64_t>(buckets));
    for (std::int64_t i = 1; i <= steps; ++i) counts_[static_cast<std::size_t>((newest_ + i) % buckets)] = 0;
    newest_ = idx;
  } else if (idx <= newest_ - static_cast<std::int64_t>(buckets)) {
    return;  // older than the window
  }
  ++counts_[static_cast<std::size_t>(idx % buckets)];
}

double rate_meter::rate(clock::time_point now) const noexcept { return recent_rate(now, buckets); }

double rate_meter::recent_rate(clock::time_point now, std::size_t n) const noexcept {
  if (!first_ || n == 0) return 0;
  n = std::min(n, buckets);
  auto const idx = std::max(index_of(now), newest_);
  auto const oldest = idx - static_cast<std::int64_t>(n) + 1;
  std::uint64_t sum = 0;
  for (auto j = std::max(oldest, newest_ - static_cast<std::int64_t>(buckets) + 1); j <= newest_; ++j)
    sum += counts_[static_cast<std::size_t>(j % buckets)];
  // The window starts at the oldest bucket, or at the first event when later.
  auto const window_start = std::max(*first_, clock::time_point(bucket_width * oldest));
  double const span = std::max(seconds(now - window_start), seconds(min_span));
  return static_cast<double>(sum) / span;
}

rate_controller::rate_controller(rate_controller_options options) : opt_(options) {
  if (opt_.max_rate && !(*opt_.max_rate > 0)) throw std::invalid_argument("max_rate must be positive");
  if (!(opt_.beta > 0 && opt_.beta < 1)) throw std::invalid_argument("beta must be in (0, 1)");
  if (!(opt_.recovery_seconds > 0)) throw std::invalid_argument("recovery_seconds must be positive");
  if (!(opt_.min_rate > 0)) throw std::invalid_argument("min_rate must be positive");
  if (!(opt_.initial_rate > 0)) throw std::invalid_argument("initial_rate must be positive");
  if (!(opt_.slow_start_gain >= 0)) throw std::invalid_argument("slow_start_gain must not be negative");
  if (!(opt_.burst_seconds >= 0)) throw std::invalid_argument("burst_seconds must not be negative");
  opt_.burst = std::max(opt_.burst, 1.0);
  k_ = opt_.recovery_seconds;
  // W(K) = W_max and W(0) = beta W_max: c K^3 = 1 - beta.
  c_ = (1 - opt_.beta) / (k_ * k_ * k_);
  fill_rate_ = std::max(opt_.initial_rate, opt_.min_rate);
  tokens_ = opt_.burst;
}

double rate_controller::effective_rate() const {
  return opt_.max_rate ? std::min(fill_rate_, *opt_.max_rate) : fill_rate_;
}

double rate_controller::burst() const {
  return std::max(opt_.burst, effective_rate() * opt_.burst_seconds);
}

double rate_controller::cubic_rate(clock::time_point now) const {
  double const t = seconds(now - cubic_origin_) - k_;
  double const relative = w_max_ * (1 + c_ * t * t * t);
  // Past W_max, at least the absolute curve of TCP CUBIC and the AWS SDKs (C = 0.4 per s^3):
  // after cuts down to a few requests per second, the run must climb back in seconds, not
  // in minutes as a curve scaled by a tiny W_max would.
  if (t <= 0) return relative;
  return std::max(relative, w_max_ + absolute_cubic_c * t * t * t);
}

void rate_controller::set_rate(double r) {
  fill_rate_ = std::max(opt_.min_rate, r);
  if (opt_.max_rate) fill_rate_ = std::min(fill_rate_, std::max(*opt_.max_rate, opt_.min_rate));
}

void rate_controller::refill(clock::time_point now) {
  if (last_refill_ && now > *last_refill_)
    tokens_ = std::min(burst(), tokens_ + effective_rate() * seconds(now - *last_refill_));
  if (!last_refill_ || now > *last_refill_) last_refill_ = now;
}

rate_controller::decision rate_controller::try_acquire(clock::time_point now) {
  if (now < paused_until_) return {false, paused_until_ - now};
  refill(now);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {true, {}};
  }
  auto wait = std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>((1 - tokens_) / effective_rate()));
  wait += clock::duration(1);  // round up: the token is there when asked again
  bool const capped = opt_.max_rate && fill_rate_ >= *opt_.max_rate;  // cannot grow further
  if (!enabled_ && !capped) wait = std::min(wait, slow_start_poll);
  rate_bound_ = true;
  last_bound_ = now;
  return {false, wait};
}

void rate_controller::on_success(clock::time_point now) {
  successes_.record(now);
  answers_.record(now);
  ++successes_since_cut_;
  ++episode_successes_;
  refill(now);  // tokens so far accrue at the old rate
  if (!enabled_) {
    // Slow start: grow while the rate holds requests back (a run held back by its requests
    // in flight, or by its callers, must not inflate it).
    if (rate_bound_) set_rate(fill_rate_ + opt_.slow_start_gain);
    rate_bound_ = false;
    return;
  }
  // Grow along the cubic, but not past twice what the run actually sends (a run that
  // does not use its rate must not inflate it), and never below the post-cut rate.
  double const clamp = std::max(2 * answers_.rate(now), opt_.beta * w_max_);
  set_rate(std::min(cubic_rate(now), clamp));
}

bool rate_controller::on_throttled(clock::time_point now, clock::time_point sent,
                                   std::optional<clock::duration> retry_after) {
  ++throttle_events_;
  answers_.record(now);
  if (retry_after && now + *retry_after > paused_until_) paused_until_ = now + *retry_after;
  if (last_cut_ && sent < *last_cut_) return false;  // sent before we reacted: same event
  // The successes a cut is based on need a moment after the previous cut.
  if (last_cut_ && now - *last_cut_ < min_cut_interval) return false;
  refill(now);
  // What the run sends: the paced rate, or in the slow start the rate when it held requests
  // back lately, else the rate of answers (a run held back by other things sends less).
  double const current = enabled_ || (last_bound_ && now - *last_bound_ < 2 * slow_start_poll)
                             ? effective_rate()
                             : std::max(answers_.recent_rate(now, 2), opt_.min_rate);
  bool const same_episode = last_cut_ && now - *last_cut_ < episode_span;
  double measured = 0;
  if (same_episode) {
    // Refused again although sent after the cut: what the server let through since the
    // episode began is its limit (counted as at least half a success, so that a few
    // milliseconds without one do not read as no limit at all).
    measured = std::max(static_cast<double>(episode_successes_), 0.5) / std::max(seconds(now - episode_start_), 1e-3);
  } else {
    // A new episode: the rate of successes over the last second, or in the slow start over
    // the last 200 ms, as the rate has been growing (either may be inflated by the
    // server's burst; the next throttles of the episode correct it).
    measured = enabled_ ? successes_.rate(now) : std::max(successes_.recent_rate(now, 2), current / 2);
    episode_start_ = now;
    episode_successes_ = 0;
  }
  measured = std::min(measured, current);
  // Throttles before any success was measured: one multiplicative step below what the run
  // sends (TCP's beta x cwnd), not the minimum rate.
  if (measured < opt_.min_rate) measured = std::max(measured, opt_.beta * current);
  if (cut_had_pause_ && last_cut_ && now > *last_cut_) {
    // A quota: what the server let through since the last pause, pause included.
    measured = std::min(measured, static_cast<double>(successes_since_cut_) / seconds(now - *last_cut_));
  }
  w_max_ = std::max(measured, opt_.min_rate);
  enabled_ = true;
  last_cut_ = now;
  cubic_origin_ = std::max(now, paused_until_);
  cut_had_pause_ = retry_after.has_value();
  successes_since_cut_ = 0;
  ++cuts_;
  set_rate(opt_.beta * w_max_);
  tokens_ = std::min(tokens_, 1.0);
  return true;
}

rate_controller::snapshot rate_controller::stats(clock::time_point now) const {
  snapshot s;
  if (enabled_ || opt_.max_rate) s.rate = effective_rate();
  s.max_rate_before_cut = w_max_;
  s.measured_success_rate = successes_.rate(now);
  s.throttle_events = throttle_events_;
  s.cuts = cuts_;
  if (now < paused_until_) s.paused_until = paused_until_;
  return s;
}

std::optional<std::chrono::seconds> parse_try_again_after(std::string_view message) {
  std::string lower(message);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view const key = "try again after";
  auto pos = lower.find(key);
  if (pos == std::string::npos) return std::nullopt;
  pos += key.size();
  auto skip_spaces = [&] {
    while (pos < lower.size() && std::isspace(static_cast<unsigned char>(lower[pos]))) ++pos;
  };
  skip_spaces();
  std::int64_t n = 0;
  std::size_t digits = 0;
  while (pos < lower.size() && std::isdigit(static_cast<unsigned char>(lower[pos])) && digits < 9) {
    n = n * 10 + (lower[pos] - '0');
    ++pos;
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  skip_spaces();
  auto const unit = std::string_view(lower).substr(pos);
  if (unit.starts_with("sec")) return std::chrono::seconds(n);
  if (unit.starts_with("min")) return std::chrono::minutes(n);
  if (unit.starts_with("hour")) return std::chrono::hours(n);
  return std::nullopt;
}

}  // namespace velt::detail
