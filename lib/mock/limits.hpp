// SPDX-License-Identifier: BSL-1.0
// The limits of a real deployment (rate limit, quota, concurrency, outage) as sans-I/O units:
// every decision takes the time as an argument, so tests pass it in instead of sleeping.
#pragma once

#include "api_handler.hpp"

#include <velt/mock/options.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace velt::mock::detail {

using steady_time = std::chrono::steady_clock::time_point;

/// Whether a limiter admits a request, and if not, how long until it would.
struct admission {
  bool admitted = true;
  std::chrono::nanoseconds wait{0};  ///< refused: time until the next request would be admitted
};

/// A token bucket: capacity `burst`, full at `start`, refilled at `per_second`. Not thread-safe.
class token_bucket {
 public:
  token_bucket(double per_second, std::size_t burst, steady_time start);
  /// Takes a token at `now` (times before the last call count as the last call).
  admission take(steady_time now);
  double tokens() const noexcept { return tokens_; }

 private:
  double rate_, capacity_, tokens_;
  steady_time last_;
};

/// At most `limit` admissions per window; windows are [start + k*window, start + (k+1)*window).
/// Not thread-safe.
class fixed_window {
 public:
  fixed_window(std::uint64_t limit, std::chrono::nanoseconds window, steady_time start);
  admission take(steady_time now);

 private:
  std::uint64_t limit_;
  std::chrono::nanoseconds window_;
  steady_time start_;
  std::int64_t current_ = 0;  ///< index of the window `used_` belongs to
  std::uint64_t used_ = 0;
};

/// Whether `now` lies in [start + w.start, start + w.start + w.duration).
bool in_outage(outage_window const& w, steady_time start, steady_time now) noexcept;

/// "1 minute", "N minutes" (whole minutes), "1 second", "N seconds".
std::string window_phrase(std::chrono::seconds window);
/// "Rate limit exceeded. Try again after <window_phrase>."
std::string quota_message(std::chrono::seconds window);
/// A wait as whole seconds for Retry-After: rounded up, at least 1.
std::uint64_t retry_after_seconds(std::chrono::nanoseconds wait) noexcept;

/// Why a request was refused.
enum class refusal { none, outage, concurrency, rate, quota };

/// Counts requests in flight against a bound (0: unbounded). Thread-safe.
class concurrency_gate {
 public:
  explicit concurrency_gate(std::size_t limit) : limit_(limit) {}
  /// Enters unless `limit` requests are in flight already.
  bool try_enter() noexcept;
  void leave() noexcept;
  std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }

 private:
  std::size_t const limit_;
  std::atomic<std::size_t> in_flight_{0};
};

/// Holds a place in a concurrency_gate until destroyed.
class gate_ticket {
 public:
  gate_ticket() = default;
  explicit gate_ticket(concurrency_gate* g) noexcept : gate_(g) {}
  gate_ticket(gate_ticket&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
  gate_ticket& operator=(gate_ticket&& o) noexcept {
    if (this != &o) {
      release();
      gate_ = std::exchange(o.gate_, nullptr);
    }
    return *this;
  }
  ~gate_ticket() { release(); }
  void release() noexcept {
    if (gate_ != nullptr) std::exchange(gate_, nullptr)->leave();
  }

 private:
  concurrency_gate* gate_ = nullptr;
};

/// What the limits decide for one API request.
struct limit_decision {
  refusal refused = refusal::none;
  std::optional<api_response> response;  ///< refused and answered (unset: outage refuse mode, reset)
  gate_ticket ticket;                    ///< admitted: the place in the concurrency gate
};

/// All limits of one server. Thread-safe.
class limiter {
 public:
  limiter(server_options const& o, steady_time start);
  /// The decision for an API request read at `now`.
  limit_decision check(steady_time now);
  /// Whether a connection accepted at `now` is to be reset (outage in refuse mode).
  bool refuses_connections(steady_time now) const noexcept;
  bool active() const noexcept { return active_; }

 private:
  std::optional<rate_limit> rate_opts_;
  std::optional<request_quota> quota_opts_;
  std::optional<outage_window> outage_;
  busy_answer busy_;
  steady_time start_;
  bool active_;
  concurrency_gate gate_;
  std::mutex mutex_;
  std::optional<token_bucket> bucket_;
  std::optional<fixed_window> window_;
};

/// The responses of the limits.
api_response rate_limited_response(rate_limit_answer a, std::chrono::nanoseconds wait);
api_response quota_response(std::chrono::seconds window);
api_response busy_response(busy_answer a);
api_response outage_response();  ///< nginx's 503 page

}  // namespace velt::mock::detail
