// SPDX-License-Identifier: BSL-1.0
// The rules of one response exchange (lib/client/response_exchange.hpp), with no socket and
// no clock: interim (1xx) responses, read expiry, body-budget shares, and how far the
// request got.
#include "client/response_exchange.hpp"

#include <gtest/gtest.h>

namespace velt::detail {
namespace {
using namespace std::chrono_literals;
using step = response_exchange::step::kind;

// A fixed "now"; a deadline 10 s after it.
clock_type::time_point const t0 = clock_type::time_point{} + 1000s;
clock_type::time_point const deadline = t0 + 10s;

TEST(ClientUnitExchange, BodyBudgetShareIsTheAnnouncedLengthOrOneMebibyte) {
  std::size_t const budget = 64u << 20;
  EXPECT_EQ(body_budget_share(1000, budget), 1000u);
  EXPECT_EQ(body_budget_share(std::nullopt, budget), std::size_t{1} << 20);  // chunked, or to EOF
  EXPECT_EQ(body_budget_share(0, budget), 1u);  // an empty body still takes its turn
  // A body larger than the whole budget waits for all of it, not for more than exists.
  EXPECT_EQ(body_budget_share(std::uint64_t{1} << 40, budget), budget);
  EXPECT_EQ(body_budget_share(std::nullopt, 512u << 10), 512u << 10);
  EXPECT_EQ(body_budget_share(1000, 0), 0u);  // no budget
}

TEST(ClientUnitExchange, InterimResponsesAreSkippedUpToEight) {
  response_exchange ex({120s, true}, deadline);
  for (unsigned status : {100u, 102u, 103u, 100u, 102u, 103u, 199u, 100u}) {
    auto const s = ex.on_message(status, false);
    EXPECT_EQ(s.what, step::next_message) << status;
  }
  EXPECT_EQ(ex.interim_responses(), 8u);
  auto const ninth = ex.on_message(100, false);
  EXPECT_EQ(ninth.what, step::fail);
  EXPECT_NE(ninth.why.find("more than 8 interim (1xx) responses"), std::string::npos) << ninth.why;

  response_exchange ok({120s, true}, deadline);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(ok.on_message(102, false).what, step::next_message);
  EXPECT_EQ(ok.on_message(200, false).what, step::final_response);
}

TEST(ClientUnitExchange, SwitchingProtocolsIsAnErrorFirstOrLater) {
  response_exchange first({120s, true}, deadline);
  auto const s = first.on_message(101, false);
  EXPECT_EQ(s.what, step::fail);
  EXPECT_NE(s.why.find("101"), std::string::npos);

  response_exchange later({120s, true}, deadline);
  EXPECT_EQ(later.on_message(100, false).what, step::next_message);
  EXPECT_EQ(later.on_message(101, false).what, step::fail);
}

TEST(ClientUnitExchange, AnyNon1xxStatusIsTheFinalResponse) {
  for (unsigned status : {200u, 202u, 204u, 301u, 404u, 429u, 503u, 99u, 600u}) {
    response_exchange ex({120s, true}, deadline);
    EXPECT_EQ(ex.on_message(status, false).what, step::final_response) << status;
  }
  EXPECT_TRUE(is_interim(100));
  EXPECT_TRUE(is_interim(199));
  EXPECT_FALSE(is_interim(200));
  EXPECT_FALSE(is_interim(99));
}

TEST(ClientUnitExchange, PageRequestsUseTheIdleLimitForTheFirstByte) {
  response_exchange ex({2s, /*idle_read_before_first_byte=*/true}, deadline);
  EXPECT_EQ(ex.read_expiry(t0), t0 + 2s);
  ex.on_bytes();
  EXPECT_EQ(ex.read_expiry(t0 + 5s), t0 + 7s);  // between bytes: from the last read
  EXPECT_EQ(ex.read_expiry(t0 + 9s), deadline);  // never past the deadline
}

TEST(ClientUnitExchange, ARequestNotSafeToRepeatWaitsForItsFirstByteUpToTheDeadline) {
  response_exchange ex({2s, /*idle_read_before_first_byte=*/false}, deadline);
  EXPECT_EQ(ex.read_expiry(t0), deadline);
  EXPECT_EQ(ex.read_expiry(t0 + 5s), deadline);
  ex.on_bytes();  // the idle limit runs between bytes
  EXPECT_EQ(ex.read_expiry(t0 + 5s), t0 + 7s);
}

TEST(ClientUnitExchange, ProcessingResetsTheFirstByteWaitOfARequestNotSafeToRepeat) {
  response_exchange ex({2s, false}, deadline);
  ex.on_bytes();
  EXPECT_EQ(ex.on_message(102, /*more_buffered=*/false).what, step::next_message);
  EXPECT_FALSE(ex.message_started());
  EXPECT_EQ(ex.read_expiry(t0 + 1s), deadline) << "after 102 the answer may take minutes";
  ex.on_bytes();
  EXPECT_EQ(ex.read_expiry(t0 + 1s), t0 + 3s);

  // When the final response already follows in the buffer, its bytes have started.
  response_exchange buffered({2s, false}, deadline);
  buffered.on_bytes();
  EXPECT_EQ(buffered.on_message(102, /*more_buffered=*/true).what, step::next_message);
  EXPECT_EQ(buffered.read_expiry(t0), t0 + 2s);

  // A page request keeps its idle limit after an interim response.
  response_exchange page({2s, true}, deadline);
  page.on_bytes();
  EXPECT_EQ(page.on_message(102, false).what, step::next_message);
  EXPECT_EQ(page.read_expiry(t0), t0 + 2s);
}

TEST(ClientUnitExchange, WithoutADeadlineTheIdleLimitAlwaysApplies) {
  response_exchange ex({2s, false}, clock_type::time_point::max());
  EXPECT_EQ(ex.read_expiry(t0), t0 + 2s);
  response_exchange no_idle({0s, true}, clock_type::time_point::max());
  EXPECT_EQ(no_idle.read_expiry(t0), clock_type::time_point::max());
  response_exchange no_idle_deadline({0s, true}, deadline);
  EXPECT_EQ(no_idle_deadline.read_expiry(t0), deadline);
}

TEST(ClientUnitExchange, DeliveryFollowsHowFarTheExchangeGot) {
  response_exchange ex({2s, true}, deadline);
  EXPECT_EQ(ex.delivery(), delivery::not_sent);
  ex.on_request_written(0, /*timed_out=*/false);  // failed before any byte left
  EXPECT_EQ(ex.delivery(), delivery::not_sent);
  ex.on_request_written(120, false);
  EXPECT_EQ(ex.delivery(), delivery::maybe_delivered);
  EXPECT_FALSE(ex.response_started());
  ex.on_bytes();
  EXPECT_TRUE(ex.response_started());
  EXPECT_EQ(ex.on_message(100, false).what, step::next_message);
  EXPECT_EQ(ex.delivery(), delivery::maybe_delivered) << "an interim response is no answer";
  EXPECT_TRUE(ex.response_started());
  EXPECT_EQ(ex.on_message(202, false).what, step::final_response);
  EXPECT_EQ(ex.delivery(), delivery::answered);

  response_exchange timed_out({2s, true}, deadline);
  timed_out.on_request_written(0, /*timed_out=*/true);  // bytes may be on their way
  EXPECT_EQ(timed_out.delivery(), delivery::maybe_delivered);

  response_exchange refused({2s, true}, deadline);
  refused.on_request_written(10, false);
  EXPECT_EQ(refused.on_message(101, false).what, step::fail);
  EXPECT_EQ(refused.delivery(), delivery::maybe_delivered);
}

}  // namespace
}  // namespace velt::detail
