// SPDX-License-Identifier: BSL-1.0
// Sans-I/O decisions of the request loop (client_impl::call) about one attempt: when it
// must end, what its failure tells (delivery, whether it may be resent), what the loop does
// next (retry after a delay, or give up with the final details), and what an operation that
// ends between or during attempts reports about what the server may have seen. No sockets,
// no clock (the caller passes `now`), no randomness (the caller passes a uniform draw).
#pragma once

#include "client/response_exchange.hpp"
#include "client/retry_policy.hpp"

#include <velt/client_options.hpp>
#include <velt/error.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace velt::detail {

/// When an attempt starting at `now` must be complete: `now + request_timeout` (never, when
/// the timeout is 0), and never after the operation's deadline.
clock_type::time_point attempt_deadline(std::chrono::milliseconds request_timeout,
                                        std::optional<clock_type::time_point> operation_deadline,
                                        clock_type::time_point now) noexcept;

/// Whether the operation's deadline (if any) has passed at `now`: no attempt may start.
bool deadline_passed(std::optional<clock_type::time_point> deadline,
                     clock_type::time_point now) noexcept;

/// A failure decoded from a complete response: `answered`, with the response's HTTP status
/// (kept when the decoder already set one).
void mark_answered(error_details& e, unsigned http_status) noexcept;

/// Whether a failed attempt may be sent again. A request that is safe to repeat always may;
/// one that is not (a delete) only when the server cannot have acted on it: nothing was
/// sent, or the server answered that it is throttled (429 / RESOURCE_EXHAUSTED). Never once
/// it may have reached the server with no answer.
bool may_resend(bool idempotent, error_details const& failure) noexcept;

/// Appends " (the request may have reached the server; not resent)" to the message of a
/// failure of a request that is not safe to repeat and may have reached the server
/// unanswered.
void note_not_resent(error_details& e, bool idempotent);

/// `e.to_string()` without the ", after N attempts" part: for quoting a failure inside the
/// message of the error that replaces it (whose own to_string adds the attempts once).
std::string describe_without_attempts(error_details const& e);

/// What the request loop does after a failed attempt.
struct attempt_verdict {
  enum class kind {
    retry,             ///< wait `delay`, then send again
    give_up,           ///< the failure is final as it is
    budget_exhausted,  ///< final: the retry budget is spent (the details say so)
    deadline,          ///< final: the operation's deadline passes before the retry could be made
  } what = kind::give_up;
  std::chrono::milliseconds delay{0};
  failure_kind failure = failure_kind::transport;  ///< classify(err) of the failed attempt
};

/// Decides about the failed attempt `attempt` (1-based) that ended in `err` (its message
/// already redacted), at `now`. Sets `err.attempts`; when the verdict is budget_exhausted or
/// deadline, rewrites `err` into the final error (code, status and a message that quotes
/// the failure), keeping its HTTP status, Retry-After and delivery. A cancellation is never
/// retried. Takes a budget token when it decides to retry (see `decide_retry`).
attempt_verdict decide_attempt(retry_options const& o, retry_budget& budget, unsigned attempt,
                               error_details& err, bool may_resend,
                               std::optional<clock_type::time_point> deadline,
                               clock_type::time_point now, double u01);

/// What one operation's attempts may have let the server see, kept across attempts so that
/// an operation ending with no attempt result of its own (cancelled while sending or while
/// waiting to retry, its deadline passed before the next attempt) reports it truthfully.
class delivery_record {
 public:
  /// A new attempt starts (nothing of it sent yet). The transport reports how far it gets
  /// through the returned pointer, valid as long as this record.
  velt::delivery* begin_attempt() noexcept {
    in_flight_ = delivery::not_sent;
    answered_status_ = 0;
    return &in_flight_;
  }
  /// The attempt in flight got a complete response with `http_status`.
  void on_answer(unsigned http_status) noexcept {
    in_flight_ = delivery::answered;
    answered_status_ = http_status;
  }
  /// The attempt in flight ended in `failure` (its delivery set).
  void on_failure(error_details const& failure) noexcept;

  /// Sets `e.delivery` for an error that ends the operation outside an attempt's own result.
  /// During an attempt: how far it got (answered also sets `e.http_status`, the answer being
  /// read or decoded when the operation ended). Between attempts (the next one not sent):
  /// not_sent when nothing sent before can have taken effect (never sent, or answered with
  /// "did nothing", e.g. throttled), else maybe_delivered, so that
  /// `may_have_taken_effect(e)` says what it would have said of the earlier failures.
  void describe(error_details& e) const noexcept;

 private:
  velt::delivery in_flight_ = delivery::not_sent;
  unsigned answered_status_ = 0;
  bool earlier_may_have_taken_effect_ = false;
};

}  // namespace velt::detail
