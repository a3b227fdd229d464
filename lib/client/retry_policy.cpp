// SPDX-License-Identifier: BSL-1.0
#include "client/retry_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cmath>

namespace velt::detail {

bool is_permanent_transport_error(boost::system::error_code const& ec) noexcept {
  if (ec.category() != boost::asio::error::get_ssl_category()) return false;
  // Any TLS-level failure other than an unexpected close is a configuration or trust
  // problem (certificate verification, protocol version, handshake alert): retrying
  // cannot help and could hide an attack.
  return ec != boost::asio::ssl::error::stream_truncated;
}

std::chrono::milliseconds backoff_delay(retry_options const& o, unsigned attempt,
                                        double u01) noexcept {
  double const initial = static_cast<double>(o.initial_backoff.count());
  double const cap = static_cast<double>(o.max_backoff.count());
  double const exponent = attempt > 0 ? static_cast<double>(attempt - 1) : 0.0;
  double ceiling = initial * std::pow(std::max(o.multiplier, 1.0), exponent);
  if (!(ceiling <= cap)) ceiling = cap;  // also catches inf/NaN
  double const u = std::clamp(u01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling * u));
}

bool retry_budget::on_failure() {
  if (max_ <= 0) return true;
  std::lock_guard lock(mutex_);
  tokens_ = std::max(0.0, tokens_ - 1.0);
  return tokens_ > max_ / 2;
}

void retry_budget::on_success() {
  if (max_ <= 0) return;
  std::lock_guard lock(mutex_);
  tokens_ = std::min(max_, tokens_ + ratio_);
}

double retry_budget::tokens() const {
  std::lock_guard lock(mutex_);
  return tokens_;
}

retry_decision decide_retry(retry_options const& o, retry_budget& budget, unsigned attempt,
                            error_details const& e, bool may_resend, double u01) {
  retry_decision d;
  d.kind = classify(e);
  bool retryable = is_retryable(e.status) && !is_permanent_transport_error(e.code);
  if (!retryable || !may_resend || attempt >= o.max_attempts) return d;

  bool const server_paced = d.kind == failure_kind::throttled && e.retry_after.has_value();
  if (!server_paced && !budget.on_failure()) {
    d.what = retry_decision::verdict::budget_exhausted;
    return d;
  }
  d.what = retry_decision::verdict::retry;
  d.delay = backoff_delay(o, attempt, u01);
  if (e.retry_after) {
    auto const asked = std::chrono::duration_cast<std::chrono::milliseconds>(*e.retry_after);
    d.delay = std::max(d.delay, std::min(asked, o.max_retry_after));
  }
  return d;
}

}  // namespace velt::detail
