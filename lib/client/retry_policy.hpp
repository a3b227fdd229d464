// SPDX-License-Identifier: BSL-1.0
// Sans-I/O retry decisions: which failures are retried, after how long, and the
// client-wide retry budget. No sockets, no clock, no randomness of its own (the caller
// passes a uniform draw), so every branch is unit-tested in microseconds.
#pragma once

#include <velt/client_options.hpp>
#include <velt/error.hpp>

#include <chrono>
#include <mutex>

namespace velt::detail {

using velt::classify;
using velt::failure_kind;

/// True for transport failures that no retry can fix: certificate verification,
/// protocol-version mismatch and other TLS alerts.
bool is_permanent_transport_error(boost::system::error_code const& ec) noexcept;

/// The exponential backoff with full jitter for the failed attempt `attempt` (1-based):
/// `u01 * min(max_backoff, initial_backoff * multiplier^(attempt-1))`, `u01` in [0, 1).
std::chrono::milliseconds backoff_delay(retry_options const& o, unsigned attempt,
                                        double u01) noexcept;

/// gRPC-style retry throttling shared by every request of a client. Thread-safe.
class retry_budget {
 public:
  explicit retry_budget(retry_options const& o)
      : max_(o.budget_max_tokens), ratio_(o.budget_token_ratio), tokens_(o.budget_max_tokens) {}

  /// Records a retryable failure and says whether a retry is allowed.
  bool on_failure();
  /// Records a success.
  void on_success();
  double tokens() const;

 private:
  double const max_;
  double const ratio_;
  mutable std::mutex mutex_;
  double tokens_;
};

/// What to do after a failed attempt.
struct retry_decision {
  enum class verdict { retry, give_up, budget_exhausted } what = verdict::give_up;
  std::chrono::milliseconds delay{0};
  failure_kind kind = failure_kind::transport;
};

/// Decides about the failed attempt `attempt` (1-based) that ended in `e`.
/// `may_resend`: false when resending could repeat a non-idempotent effect (a delete that may
/// have reached the server). Takes a budget token when it decides to retry (none for
/// throttling answers that carry Retry-After).
retry_decision decide_retry(retry_options const& o, retry_budget& budget, unsigned attempt,
                            error_details const& e, bool may_resend, double u01);

}  // namespace velt::detail
