// SPDX-License-Identifier: BSL-1.0
// How far a failed request got (error_details::delivery) and what may_have_taken_effect
// says of a delete, for each way a request can fail, against the in-process server over
// TLS on loopback. Also: messages that quote an earlier failure say the attempts once.
#include "support.hpp"
#include "../support/loopback.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <thread>

namespace velt::test {
namespace {
namespace asio = boost::asio;

struct outcome {
  boost::system::error_code ec = asio::error::would_block;  // until the handler runs
  error_details details;
};

/// Starts a delete of `user` whose details land in `out`, optionally cancellable.
void start_erase(velt::client const& c, std::string user, outcome& out,
                 asio::cancellation_signal* cancel = nullptr) {
  delete_user_data_request request{.user_ids = {std::move(user)}};
  auto done = [&out](boost::system::error_code ec, delete_job) { out.ec = ec; };
  if (cancel != nullptr)
    c.async_delete_all_user_data(std::move(request), out.details,
                                 asio::bind_cancellation_slot(cancel->slot(), done));
  else
    c.async_delete_all_user_data(std::move(request), out.details, done);
}

/// One delete of `user`, run to its end.
outcome erase(asio::io_context& io, velt::client const& c, std::string user) {
  outcome out;
  start_erase(c, std::move(user), out);
  io.restart();
  io.run_for(20s);
  EXPECT_NE(out.ec, asio::error::would_block) << "the delete did not finish";
  return out;
}

/// Emits a terminal cancellation on `cancel` after `after`.
void cancel_after(asio::steady_timer& timer, asio::cancellation_signal& cancel,
                  std::chrono::milliseconds after) {
  timer.expires_after(after);
  timer.async_wait([&cancel](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
}

mock::server_options small_server() {
  mock::server_options so;
  so.data.users = 3;
  so.data.max_items = 120;
  return so;
}

// ---- a delete that fails in each way the server can make it fail -------------------------

struct fault_delivery {
  char const* name;
  mock::fault_kind kind;
  unsigned fault_http_status;
  velt::delivery expected;
  unsigned expected_http_status;  // 0: no response was read
  bool may_have_taken_effect;
};

void PrintTo(fault_delivery const& c, std::ostream* os) { *os << c.name; }

class ClientDeliveryOfAFault : public ::testing::TestWithParam<fault_delivery> {};

TEST_P(ClientDeliveryOfAFault, DeleteReportsHowFarItGot) {
  auto const& c = GetParam();
  mock::server srv(small_server());
  mock::fault f{.kind = c.kind, .max_times = 1, .endpoint = wire::endpoint::delete_user_data,
                .http_status = c.fault_http_status};
  f.retry_after = "0";
  srv.add_fault(f);
  asio::io_context io;
  auto o = options_for(srv);
  o.retry.max_attempts = 1;  // throttling answers are final too
  velt::client client(io.get_executor(), o);
  auto const got = erase(io, client, srv.user_ids()[0]);
  ASSERT_TRUE(got.ec) << "the fault did not fail the delete";
  EXPECT_EQ(got.details.delivery, c.expected) << got.details.to_string();
  EXPECT_EQ(got.details.http_status, c.expected_http_status) << got.details.to_string();
  EXPECT_EQ(may_have_taken_effect(got.details), c.may_have_taken_effect) << got.details.to_string();
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
  EXPECT_EQ(srv.stats().faults_of(c.kind), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ClientDeliveryOfAFault,
    ::testing::Values(
        // Sent, no complete answer: the job may be queued.
        fault_delivery{"close_before_response", mock::fault_kind::close_before_response, 503,
                       delivery::maybe_delivered, 0, true},
        fault_delivery{"reset_mid_body", mock::fault_kind::reset_mid_body, 503,
                       delivery::maybe_delivered, 0, true},
        fault_delivery{"truncated_body", mock::fault_kind::truncated_body, 503,
                       delivery::maybe_delivered, 0, true},
        fault_delivery{"oversized_headers", mock::fault_kind::oversized_headers, 503,
                       delivery::maybe_delivered, 0, true},
        // A complete answer whose body cannot be decoded: answered (HTTP 200), and the
        // server did handle the request.
        fault_delivery{"malformed_json", mock::fault_kind::malformed_json, 503,
                       delivery::answered, 200, true},
        // 5xx: a gateway may have given up while the API went on.
        fault_delivery{"http_error_html_502", mock::fault_kind::http_error_html, 502,
                       delivery::answered, 502, true},
        fault_delivery{"http_error_json_500", mock::fault_kind::http_error_json, 500,
                       delivery::answered, 500, true},
        fault_delivery{"unavailable_503", mock::fault_kind::unavailable, 503,
                       delivery::answered, 503, true},
        // Throttled: the server says it did nothing.
        fault_delivery{"throttle_429", mock::fault_kind::throttle_429, 503,
                       delivery::answered, 429, false},
        fault_delivery{"resource_exhausted", mock::fault_kind::resource_exhausted, 503,
                       delivery::answered, 429, false}),
    [](auto const& info) { return std::string(info.param.name); });

// ---- failures before any byte was sent -----------------------------------------------------

TEST(ClientDelivery, RefusedBeforeAnyIoIsNotSent) {
  mock::server srv(small_server());
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  outcome got;
  delete_user_data_request none{.user_ids = {}};
  c.async_delete_all_user_data(std::move(none), got.details,
                               [&got](boost::system::error_code ec, delete_job) { got.ec = ec; });
  io.run_for(5s);
  EXPECT_EQ(got.ec, make_error_code(errc::invalid_request));
  EXPECT_EQ(got.details.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(got.details));
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(ClientDelivery, ConnectionRefusedIsNotSent) {
  mock::server srv(small_server());
  std::uint16_t port = 0;
  int const fd = bind_loopback(port, /*backlog=*/0);
  ASSERT_GE(fd, 0);
  ::close(fd);  // nothing listens there now
  asio::io_context io;
  auto o = options_for(srv);
  o.base_url = "https://127.0.0.1:" + std::to_string(port);
  o.retry.max_attempts = 2;  // a delete that was never sent may be sent again
  velt::client c(io.get_executor(), o);
  auto const got = erase(io, c, "user-0001");
  EXPECT_EQ(got.details.status, status::unavailable) << got.details.to_string();
  EXPECT_EQ(got.details.attempts, 2u);
  EXPECT_EQ(got.details.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(got.details));
}

TEST(ClientDelivery, AFailedTlsHandshakeIsNotSent) {
  mock::server srv(small_server());
  asio::io_context io;
  auto o = options_for(srv);
  o.ca_file.clear();  // the system store does not trust the test CA
  velt::client c(io.get_executor(), o);
  auto const got = erase(io, c, srv.user_ids()[0]);
  ASSERT_TRUE(got.ec);
  EXPECT_NE(got.details.message.find("TLS handshake"), std::string::npos) << got.details.message;
  EXPECT_EQ(got.details.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(got.details));
  EXPECT_EQ(srv.stats().requests, 0u);
}

// ---- answers and timeouts ------------------------------------------------------------------

TEST(ClientDelivery, ARefusalFor4xxIsAnAnswerThatTookNoEffect) {
  mock::server srv(small_server());
  asio::io_context io;
  auto o = options_for(srv);
  o.auth_token = "not-the-token";
  velt::client c(io.get_executor(), o);
  auto const got = erase(io, c, srv.user_ids()[0]);
  ASSERT_TRUE(got.ec);
  EXPECT_TRUE(got.details.http_status == 401 || got.details.http_status == 403)
      << got.details.to_string();
  EXPECT_EQ(got.details.delivery, delivery::answered);
  EXPECT_FALSE(may_have_taken_effect(got.details));
}

TEST(ClientDelivery, ATimeoutAfterSendingMayHaveBeenDelivered) {
  mock::server srv(small_server());
  srv.add_fault({.kind = mock::fault_kind::latency, .max_times = 1,
                 .endpoint = wire::endpoint::delete_user_data, .latency = 1500ms});
  asio::io_context io;
  auto o = options_for(srv);
  o.timeouts.request = 300ms;
  velt::client c(io.get_executor(), o);
  auto const got = erase(io, c, srv.user_ids()[0]);
  EXPECT_EQ(got.details.status, status::deadline_exceeded) << got.details.to_string();
  EXPECT_EQ(got.details.delivery, delivery::maybe_delivered);
  EXPECT_EQ(got.details.http_status, 0u);
  EXPECT_TRUE(may_have_taken_effect(got.details));
  EXPECT_NE(got.details.message.find("not resent"), std::string::npos) << got.details.message;
}

TEST(ClientDelivery, ABodyBudgetWaitThatExpiresComesAfterSending) {
  // The body budget is taken once the response's header is in: the request was sent and
  // the server has answered (here: queued the deletion), so this is no not_sent failure.
  mock::server srv(small_server());
  asio::io_context io;
  asio::thread_pool decoder(1);
  // Keep the decode thread busy: a body waiting for it keeps its share of the budget.
  asio::post(decoder, [] { std::this_thread::sleep_for(3s); });
  auto o = options_for(srv);
  o.decode_executor = decoder.get_executor();
  o.decode_elsewhere_min_bytes = 0;
  o.max_buffered_response_bytes = 1;  // one body at a time
  o.timeouts.request = 400ms;
  o.retry.max_attempts = 1;
  velt::client c(io.get_executor(), o);

  boost::system::error_code page_ec = asio::error::would_block;
  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[1], {}});
  pages.async_next([&page_ec](boost::system::error_code ec, std::optional<user_data_page>) { page_ec = ec; });
  // Once the page is read (its body now waits for the decode thread), a delete.
  outcome got;
  asio::steady_timer poll(io);
  std::function<void(boost::system::error_code)> when_read = [&](boost::system::error_code) {
    if (c.stats().responses == 0) {
      poll.expires_after(5ms);
      poll.async_wait(when_read);
      return;
    }
    start_erase(c, srv.user_ids()[0], got);
  };
  when_read({});
  io.run_for(15s);
  decoder.join();
  EXPECT_FALSE(page_ec) << pages.last_error().to_string();
  ASSERT_TRUE(got.ec) << "the delete did not wait for the budget";
  EXPECT_NE(got.details.message.find("body budget"), std::string::npos) << got.details.to_string();
  EXPECT_EQ(got.details.delivery, delivery::maybe_delivered);
  EXPECT_TRUE(may_have_taken_effect(got.details));
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
}

TEST(ClientDelivery, AStaleConnectionResendReportsTheResendsOutcome) {
  // The pooled connection dies after the request went out (maybe delivered); the resend on
  // a fresh connection is answered: the details are the resend's.
  mock::server srv(small_server());
  asio::io_context io;
  auto o = options_for(srv);
  o.retry.max_attempts = 1;
  velt::client c(io.get_executor(), o);
  (void)run(io, stream_user(c, srv.organization_id(), srv.user_ids()[0]));  // a pooled connection
  srv.add_fault({.kind = mock::fault_kind::close_before_response, .max_times = 1,
                 .endpoint = wire::endpoint::delete_status});
  srv.add_fault({.kind = mock::fault_kind::unavailable, .max_times = 1,
                 .endpoint = wire::endpoint::delete_status, .http_status = 503});
  error_details details;
  delete_status_request again{.job_id = "no-such-job"};
  auto [ec, st] = run(io, c.async_get_delete_user_data_status(again, details,
                                                              asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(ec, make_error_code(status::unavailable)) << details.to_string();
  EXPECT_EQ(c.stats().stale_resends, 1u);
  EXPECT_EQ(details.delivery, delivery::answered);
  EXPECT_EQ(details.http_status, 503u);
}

// ---- cancellation --------------------------------------------------------------------------

TEST(ClientDelivery, ADeleteCancelledAfterSendingMayHaveBeenDelivered) {
  mock::server srv(small_server());
  srv.add_fault({.kind = mock::fault_kind::latency, .max_times = 1,
                 .endpoint = wire::endpoint::delete_user_data, .latency = 2000ms});
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  asio::cancellation_signal cancel;
  asio::steady_timer timer(io);
  outcome got;
  start_erase(c, srv.user_ids()[0], got, &cancel);
  cancel_after(timer, cancel, 300ms);
  io.run_for(10s);
  EXPECT_EQ(got.ec, asio::error::operation_aborted);
  EXPECT_EQ(got.details.delivery, delivery::maybe_delivered) << got.details.to_string();
  EXPECT_TRUE(may_have_taken_effect(got.details));
}

TEST(ClientDelivery, ADeleteCancelledWhileWaitingForAConnectionIsNotSent) {
  mock::server srv(small_server());
  srv.add_fault({.kind = mock::fault_kind::latency, .max_times = 1,
                 .endpoint = wire::endpoint::get_user_data, .latency = 1500ms});
  asio::io_context io;
  auto o = options_for(srv);
  o.max_connections = 1;
  velt::client c(io.get_executor(), o);
  page_stream busy = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[1], {}});
  busy.async_next([](boost::system::error_code, std::optional<user_data_page>) {});
  asio::cancellation_signal cancel;
  asio::steady_timer timer(io);
  outcome got;
  start_erase(c, srv.user_ids()[0], got, &cancel);
  cancel_after(timer, cancel, 300ms);
  io.run_for(10s);
  EXPECT_EQ(got.ec, asio::error::operation_aborted);
  EXPECT_EQ(got.details.delivery, delivery::not_sent) << got.details.to_string();
  EXPECT_FALSE(may_have_taken_effect(got.details));
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 0u);
}

TEST(ClientDelivery, CancelledWhileWaitingToRetryReportsWhatEarlierAttemptsMayHaveDone) {
  // A page request that timed out after sending, then a throttling answer with a long
  // Retry-After: cancelled in that wait, the first attempt may still have reached the
  // server.
  {
    mock::server srv(small_server());
    srv.add_fault({.kind = mock::fault_kind::latency, .nth_request = 1, .latency = 1500ms});
    mock::fault throttle{.kind = mock::fault_kind::throttle_429, .nth_request = 2};
    throttle.retry_after = "5";
    srv.add_fault(throttle);
    asio::io_context io;
    auto o = options_for(srv);
    o.timeouts.request = 250ms;
    o.retry.max_backoff = 5ms;
    o.retry.max_retry_after = 10s;
    velt::client c(io.get_executor(), o);
    page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
    asio::cancellation_signal cancel;
    asio::steady_timer timer(io);
    boost::system::error_code ec = asio::error::would_block;
    pages.async_next(asio::bind_cancellation_slot(
        cancel.slot(), [&ec](boost::system::error_code e, std::optional<user_data_page>) { ec = e; }));
    cancel_after(timer, cancel, 1000ms);
    io.run_for(10s);
    EXPECT_EQ(ec, asio::error::operation_aborted);
    EXPECT_NE(pages.last_error().message.find("waiting to retry"), std::string::npos)
        << pages.last_error().to_string();
    EXPECT_EQ(pages.last_error().delivery, delivery::maybe_delivered);
    EXPECT_EQ(srv.stats().requests, 2u);
  }
  // A delete that was throttled (the server did nothing), cancelled while waiting to resend.
  {
    mock::server srv(small_server());
    mock::fault throttle{.kind = mock::fault_kind::resource_exhausted, .max_times = 1,
                         .endpoint = wire::endpoint::delete_user_data};
    throttle.retry_after = "5";
    srv.add_fault(throttle);
    asio::io_context io;
    auto o = options_for(srv);
    o.retry.max_retry_after = 10s;
    velt::client c(io.get_executor(), o);
    asio::cancellation_signal cancel;
    asio::steady_timer timer(io);
    outcome got;
    start_erase(c, srv.user_ids()[0], got, &cancel);
    cancel_after(timer, cancel, 500ms);
    io.run_for(10s);
    EXPECT_EQ(got.ec, asio::error::operation_aborted);
    EXPECT_EQ(got.details.delivery, delivery::not_sent) << got.details.to_string();
    EXPECT_FALSE(may_have_taken_effect(got.details));
  }
}

TEST(ClientDelivery, ACancellationThatEndsTheCoroutineStillReportsDelivery) {
  // Cancelled while a failed answer waits for a busy decode thread: the coroutine learns it
  // at its next co_await (the wait to retry) as an exception, not as an error code.
  auto ended_while_decoding = [](mock::fault f, bool erase_it) {
    mock::server srv(small_server());
    srv.add_fault(f);
    asio::io_context io;
    asio::thread_pool decoder(1);
    asio::post(decoder, [] { std::this_thread::sleep_for(800ms); });
    auto o = options_for(srv);
    o.decode_executor = decoder.get_executor();
    o.decode_elsewhere_min_bytes = 0;
    o.retry.initial_backoff = o.retry.max_backoff = 2s;
    velt::client c(io.get_executor(), o);
    asio::cancellation_signal cancel;
    asio::steady_timer timer(io);
    outcome got;
    page_stream pages;
    if (erase_it) {
      start_erase(c, srv.user_ids()[0], got, &cancel);
    } else {
      pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
      pages.async_next(asio::bind_cancellation_slot(
          cancel.slot(), [&got, &pages](boost::system::error_code ec, std::optional<user_data_page>) {
            got.ec = ec;
            got.details = pages.last_error();
          }));
    }
    cancel_after(timer, cancel, 300ms);
    io.run_for(10s);
    decoder.join();
    EXPECT_EQ(srv.stats().requests, 1u);
    return got;
  };
  // A page request answered 503 (the server may have done something): maybe delivered.
  auto page = ended_while_decoding({.kind = mock::fault_kind::unavailable, .max_times = 1}, false);
  EXPECT_EQ(page.ec, asio::error::operation_aborted);
  EXPECT_NE(page.details.message.find("operation ended"), std::string::npos) << page.details.to_string();
  EXPECT_EQ(page.details.delivery, delivery::maybe_delivered);
  // A delete answered "throttled" (the server did nothing): not sent.
  mock::fault throttled{.kind = mock::fault_kind::resource_exhausted, .max_times = 1};
  throttled.retry_after = "0";
  auto erased = ended_while_decoding(throttled, true);
  EXPECT_EQ(erased.ec, asio::error::operation_aborted);
  EXPECT_NE(erased.details.message.find("operation ended"), std::string::npos) << erased.details.to_string();
  EXPECT_EQ(erased.details.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(erased.details));
}

// ---- messages that quote the failure before them --------------------------------------------

std::size_t occurrences(std::string const& text, std::string const& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(ClientRetryMessages, ADeadlineBeforeTheNextRetrySaysTheAttemptsOnce) {
  mock::server srv(small_server());
  srv.add_fault({.kind = mock::fault_kind::unavailable, .max_times = 1});
  mock::fault throttle{.kind = mock::fault_kind::resource_exhausted, .max_times = 1};
  throttle.retry_after = "5";
  srv.add_fault(throttle);
  asio::io_context io;
  auto o = options_for(srv);
  o.stream_deadline = 2s;
  o.retry.max_retry_after = 10s;
  velt::client c(io.get_executor(), o);
  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(ec, make_error_code(errc::deadline_exceeded));
  std::string const text = pages.last_error().to_string();
  EXPECT_NE(text.find("deadline passes before the next retry"), std::string::npos) << text;
  EXPECT_EQ(pages.last_error().attempts, 2u);
  EXPECT_EQ(occurrences(text, ", after 2 attempts"), 1u) << text;
  EXPECT_EQ(pages.last_error().delivery, delivery::answered);
}

TEST(ClientRetryMessages, ASpentRetryBudgetSaysTheAttemptsOnce) {
  mock::server srv(small_server());
  srv.add_fault({.kind = mock::fault_kind::unavailable});
  asio::io_context io;
  auto o = options_for(srv);
  o.retry.max_attempts = 100;
  o.retry.budget_max_tokens = 6;  // the third failure leaves half of it
  velt::client c(io.get_executor(), o);
  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(ec, make_error_code(errc::retry_budget_exhausted));
  std::string const text = pages.last_error().to_string();
  auto const attempts = ", after " + std::to_string(pages.last_error().attempts) + " attempts";
  EXPECT_GE(pages.last_error().attempts, 2u);
  EXPECT_EQ(occurrences(text, attempts), 1u) << text;
}

}  // namespace
}  // namespace velt::test
