// SPDX-License-Identifier: BSL-1.0
#include "limits.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace velt::mock::detail {

using namespace std::chrono;

token_bucket::token_bucket(double per_second, std::size_t burst, steady_time start)
    : rate_(per_second), capacity_(static_cast<double>(std::max<std::size_t>(burst, 1))), tokens_(capacity_),
      last_(start) {
  if (!(per_second > 0) || !std::isfinite(per_second)) throw std::invalid_argument("rate limit: the rate must be > 0");
}

admission token_bucket::take(steady_time now) {
  if (now > last_) {
    tokens_ = std::min(capacity_, tokens_ + duration<double>(now - last_).count() * rate_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return {};
  }
  auto const wait = duration<double>((1.0 - tokens_) / rate_);
  return {false, std::max(nanoseconds{1}, duration_cast<nanoseconds>(wait))};
}

fixed_window::fixed_window(std::uint64_t limit, nanoseconds window, steady_time start)
    : limit_(limit), window_(window), start_(start) {
  if (window_.count() <= 0) throw std::invalid_argument("quota: the window must be positive");
}

admission fixed_window::take(steady_time now) {
  std::int64_t const index = now <= start_ ? 0 : (now - start_) / window_;
  if (index > current_) {
    current_ = index;
    used_ = 0;
  }
  if (used_ < limit_) {
    ++used_;
    return {};
  }
  return {false, start_ + (current_ + 1) * window_ - now};
}

bool in_outage(outage_window const& w, steady_time start, steady_time now) noexcept {
  return now >= start + w.start && now < start + w.start + w.duration;
}

std::string window_phrase(seconds window) {
  auto const s = window.count();
  if (s > 0 && s % 60 == 0) return s == 60 ? "1 minute" : std::to_string(s / 60) + " minutes";
  return s == 1 ? "1 second" : std::to_string(s) + " seconds";
}

std::string quota_message(seconds window) { return "Rate limit exceeded. Try again after " + window_phrase(window) + "."; }

std::uint64_t retry_after_seconds(nanoseconds wait) noexcept {
  auto const s = duration_cast<seconds>(wait + seconds{1} - nanoseconds{1}).count();
  return static_cast<std::uint64_t>(std::max<std::int64_t>(s, 1));
}

bool concurrency_gate::try_enter() noexcept {
  auto const now = in_flight_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (limit_ != 0 && now > limit_) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }
  return true;
}

void concurrency_gate::leave() noexcept { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

limiter::limiter(server_options const& o, steady_time start)
    : rate_opts_(o.rate), quota_opts_(o.quota), outage_(o.outage), busy_(o.busy), start_(start),
      active_(o.rate || o.quota || o.outage || o.max_concurrent != 0), gate_(o.max_concurrent) {
  if (rate_opts_) bucket_.emplace(rate_opts_->per_second, rate_opts_->burst, start);
  if (quota_opts_) {
    if (quota_opts_->window.count() < 1) throw std::invalid_argument("quota: the window must be at least 1 s");
    window_.emplace(quota_opts_->requests, quota_opts_->window, start);
  }
}

bool limiter::refuses_connections(steady_time now) const noexcept {
  return outage_ && outage_->mode == outage_mode::refuse && in_outage(*outage_, start_, now);
}

limit_decision limiter::check(steady_time now) {
  limit_decision d;
  if (!active_) return d;
  if (outage_ && in_outage(*outage_, start_, now)) {
    d.refused = refusal::outage;
    if (outage_->mode == outage_mode::html503) d.response = outage_response();
    return d;
  }
  if (!gate_.try_enter()) {
    d.refused = refusal::concurrency;
    d.response = busy_response(busy_);
    return d;
  }
  gate_ticket ticket(&gate_);
  {
    std::lock_guard lock(mutex_);
    if (bucket_) {
      auto const a = bucket_->take(now);
      if (!a.admitted) {
        d.refused = refusal::rate;
        d.response = rate_limited_response(rate_opts_->answer, a.wait);
        return d;
      }
    }
    if (window_) {
      auto const a = window_->take(now);
      if (!a.admitted) {
        d.refused = refusal::quota;
        d.response = quota_response(quota_opts_->window);
        return d;
      }
    }
  }
  d.ticket = std::move(ticket);
  return d;
}

api_response rate_limited_response(rate_limit_answer a, nanoseconds wait) {
  auto const secs = retry_after_seconds(wait);
  if (a == rate_limit_answer::envelope) {
    return error_response(429, "RESOURCE_EXHAUSTED", quota_message(seconds{secs}), 429);
  }
  api_response r;
  r.status = 429;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::make_shared<std::string const>("Too Many Requests\n");
  if (a == rate_limit_answer::retry_after) r.headers.emplace_back("Retry-After", std::to_string(secs));
  return r;
}

api_response quota_response(seconds window) {
  return error_response(429, "RESOURCE_EXHAUSTED", quota_message(window), 429);
}

api_response busy_response(busy_answer a) {
  if (a == busy_answer::envelope) {
    return error_response(503, "UNAVAILABLE", "The service is currently unavailable.", 503);
  }
  api_response r = outage_response();
  return r;
}

api_response outage_response() {
  static auto const page = std::make_shared<std::string const>(
      "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
      "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
      "</body>\r\n</html>\r\n");
  api_response r;
  r.status = 503;
  r.content_type = "text/html";
  r.body = page;
  return r;
}

}  // namespace velt::mock::detail

namespace velt::mock {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto const* end = text.data() + text.size();
  auto const [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && p == end && !text.empty();
}

}  // namespace

std::string_view to_string(rate_limit_answer a) noexcept {
  switch (a) {
    case rate_limit_answer::plain: return "plain";
    case rate_limit_answer::retry_after: return "retry-after";
    case rate_limit_answer::envelope: return "envelope";
  }
  return "?";
}

std::optional<rate_limit_answer> rate_limit_answer_from_string(std::string_view name) noexcept {
  for (auto a : {rate_limit_answer::plain, rate_limit_answer::retry_after, rate_limit_answer::envelope}) {
    if (to_string(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view to_string(busy_answer a) noexcept { return a == busy_answer::html ? "html" : "envelope"; }

std::optional<busy_answer> busy_answer_from_string(std::string_view name) noexcept {
  if (name == "envelope") return busy_answer::envelope;
  if (name == "html") return busy_answer::html;
  return std::nullopt;
}

std::string_view to_string(outage_mode m) noexcept { return m == outage_mode::html503 ? "html503" : "refuse"; }

std::optional<outage_mode> outage_mode_from_string(std::string_view name) noexcept {
  if (name == "refuse") return outage_mode::refuse;
  if (name == "html503") return outage_mode::html503;
  return std::nullopt;
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  std::string_view number = text;
  double scale = 1000;  // bare: seconds
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
    scale = 1;
  } else if (number.ends_with('s')) {
    number.remove_suffix(1);
  } else if (number.ends_with('m')) {
    number.remove_suffix(1);
    scale = 60'000;
  }
  double value = 0;
  if (!parse_number(number, value) || !(value >= 0) || !std::isfinite(value)) {
    throw std::invalid_argument("'" + std::string(text) + "' is not a duration (e.g. 500ms, 2s, 1.5s, 1m)");
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(value * scale))};
}

rate_limit parse_rate_limit(std::string_view spec) {
  rate_limit r;
  auto const comma = spec.find(',');
  auto const rate = spec.substr(0, comma);
  if (!parse_number(rate, r.per_second) || !(r.per_second > 0) || !std::isfinite(r.per_second)) {
    throw std::invalid_argument("rate limit: expected R[,BURST] with R > 0 requests per second, got '" +
                                std::string(spec) + "'");
  }
  if (comma != std::string_view::npos) {
    if (!parse_number(spec.substr(comma + 1), r.burst) || r.burst < 1) {
      throw std::invalid_argument("rate limit: BURST must be a whole number >= 1, got '" + std::string(spec) + "'");
    }
  }
  return r;
}

request_quota parse_quota(std::string_view spec) {
  request_quota q;
  auto const slash = spec.find('/');
  bool ok = slash != std::string_view::npos && parse_number(spec.substr(0, slash), q.requests);
  if (ok) {
    try {
      auto const w = parse_duration(spec.substr(slash + 1));
      ok = w.count() % 1000 == 0 && w.count() >= 1000;
      q.window = std::chrono::duration_cast<std::chrono::seconds>(w);
    } catch (std::invalid_argument const&) {
      ok = false;
    }
  }
  if (!ok) {
    throw std::invalid_argument("quota: expected N/SECONDS (whole seconds >= 1, e.g. 30/60), got '" +
                                std::string(spec) + "'");
  }
  return q;
}

outage_window parse_outage(std::string_view spec) {
  outage_window w;
  auto const plus = spec.find('+');
  try {
    if (plus == std::string_view::npos) throw std::invalid_argument("no '+'");
    w.start = parse_duration(spec.substr(0, plus));
    w.duration = parse_duration(spec.substr(plus + 1));
  } catch (std::invalid_argument const&) {
    throw std::invalid_argument("outage: expected START+DURATION (e.g. 2s+4s), got '" + std::string(spec) + "'");
  }
  return w;
}

}  // namespace velt::mock
