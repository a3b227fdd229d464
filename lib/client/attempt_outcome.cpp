// SPDX-License-Identifier: BSL-1.0
#include "client/attempt_outcome.hpp"

namespace velt::detail {

clock_type::time_point attempt_deadline(std::chrono::milliseconds request_timeout,
                                        std::optional<clock_type::time_point> operation_deadline,
                                        clock_type::time_point now) noexcept {
  auto deadline = request_timeout.count() > 0 ? now + request_timeout : clock_type::time_point::max();
  if (operation_deadline) deadline = std::min(deadline, *operation_deadline);
  return deadline;
}

bool deadline_passed(std::optional<clock_type::time_point> deadline,
                     clock_type::time_point now) noexcept {
  return deadline && now >= *deadline;
}

void mark_answered(error_details& e, unsigned http_status) noexcept {
  e.delivery = delivery::answered;
  if (e.http_status == 0) e.http_status = http_status;
}

bool may_resend(bool idempotent, error_details const& failure) noexcept {
  if (idempotent) return true;
  switch (failure.delivery) {
    case delivery::not_sent: return true;
    case delivery::maybe_delivered: return false;
    case delivery::answered: return classify(failure) == failure_kind::throttled;
  }
  return false;
}

void note_not_resent(error_details& e, bool idempotent) {
  if (!idempotent && e.delivery == delivery::maybe_delivered)
    e.message += " (the request may have reached the server; not resent)";
}

std::string describe_without_attempts(error_details const& e) {
  error_details quoted = e;
  quoted.attempts = 0;
  return quoted.to_string();
}

attempt_verdict decide_attempt(retry_options const& o, retry_budget& budget, unsigned attempt,
                               error_details& err, bool may_resend,
                               std::optional<clock_type::time_point> deadline,
                               clock_type::time_point now, double u01) {
  attempt_verdict v;
  err.attempts = attempt;
  v.failure = classify(err);
  if (canonical_status(err.code) == status::cancelled) return v;
  retry_decision const d = decide_retry(o, budget, attempt, err, may_resend, u01);
  v.failure = d.kind;
  if (d.what == retry_decision::verdict::give_up) return v;
  if (d.what == retry_decision::verdict::budget_exhausted) {
    err.message = "retry budget exhausted, not retried; last error: " + describe_without_attempts(err);
    err.code = make_error_code(errc::retry_budget_exhausted);
    err.status = canonical_status(err.code);
    v.what = attempt_verdict::kind::budget_exhausted;
    return v;
  }
  if (deadline && now + d.delay >= *deadline) {
    err.message = "deadline passes before the next retry; last error: " + describe_without_attempts(err);
    err.code = make_error_code(errc::deadline_exceeded);
    err.status = canonical_status(err.code);
    v.what = attempt_verdict::kind::deadline;
    return v;
  }
  v.what = attempt_verdict::kind::retry;
  v.delay = d.delay;
  return v;
}

void delivery_record::on_failure(error_details const& failure) noexcept {
  if (may_have_taken_effect(failure)) earlier_may_have_taken_effect_ = true;
  in_flight_ = delivery::not_sent;
  answered_status_ = 0;
}

void delivery_record::describe(error_details& e) const noexcept {
  switch (in_flight_) {
    case delivery::answered:
      e.delivery = delivery::answered;
      e.http_status = answered_status_;
      return;
    case delivery::maybe_delivered:
      e.delivery = delivery::maybe_delivered;
      return;
    case delivery::not_sent:
      e.delivery = earlier_may_have_taken_effect_ ? delivery::maybe_delivered : delivery::not_sent;
      return;
  }
}

}  // namespace velt::detail
