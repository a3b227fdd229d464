// SPDX-License-Identifier: BSL-1.0
// The request loop's decisions about one attempt (lib/client/attempt_outcome.hpp), with no
// socket and no clock: deadlines, resending, the final verdict and its message, and what an
// operation that ends between attempts reports about delivery.
#include "client/attempt_outcome.hpp"

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

namespace velt::detail {
namespace {
using namespace std::chrono_literals;

clock_type::time_point const t0 = clock_type::time_point{} + 1000s;

error_details answered(status s, unsigned http) {
  auto e = make_error_details(make_error_code(s), "x", http);
  e.delivery = delivery::answered;
  return e;
}

error_details transport(delivery how_far) {
  auto e = make_error_details(make_error_code(boost::asio::error::connection_reset), "read response");
  e.delivery = how_far;
  return e;
}

std::size_t occurrences(std::string const& text, std::string const& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(ClientUnitAttempt, AnAttemptEndsAtItsTimeoutOrTheOperationsDeadline) {
  EXPECT_EQ(attempt_deadline(0ms, std::nullopt, t0), clock_type::time_point::max());
  EXPECT_EQ(attempt_deadline(360s, std::nullopt, t0), t0 + 360s);
  EXPECT_EQ(attempt_deadline(360s, t0 + 5s, t0), t0 + 5s);
  EXPECT_EQ(attempt_deadline(1s, t0 + 5s, t0), t0 + 1s);
  EXPECT_EQ(attempt_deadline(0ms, t0 + 5s, t0), t0 + 5s);

  EXPECT_FALSE(deadline_passed(std::nullopt, t0));
  EXPECT_FALSE(deadline_passed(t0 + 1ms, t0));
  EXPECT_TRUE(deadline_passed(t0, t0));
  EXPECT_TRUE(deadline_passed(t0 - 1ms, t0));
}

TEST(ClientUnitAttempt, ADeleteIsResentOnlyWhenTheServerCannotHaveActed) {
  // Safe to repeat: always.
  for (auto const& e : {transport(delivery::maybe_delivered), answered(status::unavailable, 503)})
    EXPECT_TRUE(may_resend(/*idempotent=*/true, e));
  // Not safe to repeat: never sent, or a throttling answer.
  EXPECT_TRUE(may_resend(false, transport(delivery::not_sent)));
  EXPECT_TRUE(may_resend(false, answered(status::resource_exhausted, 429)));
  EXPECT_TRUE(may_resend(false, answered(status::unavailable, 429)));
  EXPECT_TRUE(may_resend(false, answered(status::resource_exhausted, 503)));
  // Never once it may have reached the server.
  EXPECT_FALSE(may_resend(false, transport(delivery::maybe_delivered)));
  EXPECT_FALSE(may_resend(false, answered(status::unavailable, 503)));
  EXPECT_FALSE(may_resend(false, answered(status::internal, 200)));  // an unreadable 2xx
}

TEST(ClientUnitAttempt, ADeleteThatMayHaveArrivedSaysItWasNotResent) {
  auto e = transport(delivery::maybe_delivered);
  note_not_resent(e, /*idempotent=*/false);
  EXPECT_NE(e.message.find("may have reached the server; not resent"), std::string::npos);
  for (auto other : {transport(delivery::not_sent), answered(status::unavailable, 503)}) {
    auto const before = other.message;
    note_not_resent(other, false);
    EXPECT_EQ(other.message, before);
  }
  auto read = transport(delivery::maybe_delivered);
  note_not_resent(read, /*idempotent=*/true);
  EXPECT_EQ(read.message, "read response");
}

TEST(ClientUnitAttempt, AnAnsweredFailureKeepsTheDecodersHttpStatus) {
  auto e = make_error_details(make_error_code(errc::malformed_response), "not JSON");
  mark_answered(e, 200);
  EXPECT_EQ(e.delivery, delivery::answered);
  EXPECT_EQ(e.http_status, 200u);
  auto f = make_error_details(make_error_code(status::unavailable), "x", 503);
  mark_answered(f, 200);
  EXPECT_EQ(f.http_status, 503u);
}

TEST(ClientUnitAttempt, RetryWithADelayWhileAttemptsAndTimeRemain) {
  retry_options o;
  retry_budget b(o);
  auto e = answered(status::unavailable, 503);
  auto const v = decide_attempt(o, b, 1, e, true, t0 + 60s, t0, 0.5);
  EXPECT_EQ(v.what, attempt_verdict::kind::retry);
  EXPECT_EQ(v.failure, failure_kind::server);
  EXPECT_EQ(v.delay, 100ms);  // half of the first ceiling (200 ms)
  EXPECT_EQ(e.attempts, 1u);
  EXPECT_EQ(e.code, make_error_code(status::unavailable));  // unchanged

  auto last = answered(status::unavailable, 503);
  EXPECT_EQ(decide_attempt(o, b, o.max_attempts, last, true, std::nullopt, t0, 0.5).what,
            attempt_verdict::kind::give_up);
  EXPECT_EQ(last.attempts, o.max_attempts);

  auto delete_reset = transport(delivery::maybe_delivered);
  EXPECT_EQ(decide_attempt(o, b, 1, delete_reset, may_resend(false, delete_reset), std::nullopt, t0, 0.5).what,
            attempt_verdict::kind::give_up);
}

TEST(ClientUnitAttempt, ACancellationIsNeverRetriedAndTakesNoBudget) {
  retry_options o;
  o.budget_max_tokens = 2;
  retry_budget b(o);
  auto e = make_error_details(make_error_code(boost::asio::error::operation_aborted), "cancelled");
  EXPECT_EQ(decide_attempt(o, b, 1, e, true, std::nullopt, t0, 0.5).what,
            attempt_verdict::kind::give_up);
  EXPECT_DOUBLE_EQ(b.tokens(), 2);
}

TEST(ClientUnitAttempt, ADeadlineBeforeTheNextRetryEndsTheOperationQuotingTheFailureOnce) {
  retry_options o;
  retry_budget b(o);
  auto e = answered(status::resource_exhausted, 429);
  e.retry_after = 30s;
  e.message = "slow down";
  e.delivery = delivery::answered;
  auto const v = decide_attempt(o, b, 3, e, true, t0 + 5s, t0, 0.0);
  EXPECT_EQ(v.what, attempt_verdict::kind::deadline);
  EXPECT_EQ(e.code, make_error_code(errc::deadline_exceeded));
  EXPECT_EQ(e.status, status::deadline_exceeded);
  EXPECT_EQ(e.attempts, 3u);
  // The last answer's facts stay: what the server said, and that it said it.
  EXPECT_EQ(e.http_status, 429u);
  EXPECT_EQ(e.retry_after, std::optional<std::chrono::seconds>(30s));
  EXPECT_EQ(e.delivery, delivery::answered);
  std::string const text = e.to_string();
  EXPECT_NE(text.find("deadline passes before the next retry; last error: RESOURCE_EXHAUSTED"),
            std::string::npos) << text;
  EXPECT_EQ(occurrences(text, "after 3 attempts"), 1u) << text;
  EXPECT_EQ(occurrences(text, "slow down"), 1u) << text;
}

TEST(ClientUnitAttempt, ASpentBudgetEndsTheOperationQuotingTheFailureOnce) {
  retry_options o;
  o.budget_max_tokens = 2;  // the first failure leaves 1 token: no more than half
  retry_budget b(o);
  auto e = answered(status::unavailable, 503);
  auto const v = decide_attempt(o, b, 2, e, true, std::nullopt, t0, 0.5);
  EXPECT_EQ(v.what, attempt_verdict::kind::budget_exhausted);
  EXPECT_EQ(e.code, make_error_code(errc::retry_budget_exhausted));
  EXPECT_EQ(e.http_status, 503u);
  std::string const text = e.to_string();
  EXPECT_NE(text.find("retry budget exhausted, not retried; last error: UNAVAILABLE (HTTP 503): x"),
            std::string::npos) << text;
  EXPECT_EQ(occurrences(text, "after 2 attempts"), 1u) << text;
  EXPECT_EQ(describe_without_attempts(e).find("attempts"), std::string::npos);
}

TEST(ClientUnitAttempt, AnEndDuringAnAttemptReportsHowFarItGot) {
  delivery_record r;
  velt::delivery* progress = r.begin_attempt();
  auto e = make_error_details(make_error_code(boost::asio::error::operation_aborted), "ended");
  r.describe(e);
  EXPECT_EQ(e.delivery, delivery::not_sent);
  *progress = delivery::maybe_delivered;  // the transport wrote request bytes
  r.describe(e);
  EXPECT_EQ(e.delivery, delivery::maybe_delivered);
  EXPECT_TRUE(may_have_taken_effect(e));
  // Ended while a complete answer was being decoded: its status tells.
  r.on_answer(429);
  auto f = make_error_details(make_error_code(boost::asio::error::operation_aborted), "ended");
  r.describe(f);
  EXPECT_EQ(f.delivery, delivery::answered);
  EXPECT_EQ(f.http_status, 429u);
  EXPECT_FALSE(may_have_taken_effect(f));
}

TEST(ClientUnitAttempt, AnEndBetweenAttemptsReportsWhatTheEarlierOnesMayHaveDone) {
  auto cancelled = [] {
    return make_error_details(make_error_code(boost::asio::error::operation_aborted), "waiting");
  };
  // A delete throttled, then cancelled while waiting to resend: the server did nothing.
  delivery_record throttled;
  throttled.begin_attempt();
  throttled.on_answer(429);
  throttled.on_failure(answered(status::resource_exhausted, 429));
  auto a = cancelled();
  throttled.describe(a);
  EXPECT_EQ(a.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(a));

  // A read that timed out after sending, then a throttling answer: the first may have
  // reached the server.
  delivery_record timed_out;
  *timed_out.begin_attempt() = delivery::maybe_delivered;
  timed_out.on_failure(transport(delivery::maybe_delivered));
  timed_out.begin_attempt();
  timed_out.on_answer(429);
  timed_out.on_failure(answered(status::resource_exhausted, 429));
  auto b = cancelled();
  timed_out.describe(b);
  EXPECT_EQ(b.delivery, delivery::maybe_delivered);
  EXPECT_EQ(b.http_status, 0u);
  EXPECT_TRUE(may_have_taken_effect(b));

  // Nothing ever sent (connection refused twice).
  delivery_record refused;
  refused.begin_attempt();
  refused.on_failure(transport(delivery::not_sent));
  refused.begin_attempt();
  refused.on_failure(transport(delivery::not_sent));
  auto c = cancelled();
  refused.describe(c);
  EXPECT_EQ(c.delivery, delivery::not_sent);

  // A 5xx answer: a gateway may have given up while the API went on.
  delivery_record gateway;
  gateway.begin_attempt();
  gateway.on_answer(502);
  gateway.on_failure(answered(status::unavailable, 502));
  auto d = cancelled();
  gateway.describe(d);
  EXPECT_EQ(d.delivery, delivery::maybe_delivered);
}

}  // namespace
}  // namespace velt::detail
