// SPDX-License-Identifier: BSL-1.0
// Deletion: both envelopes, status polling, wait_for_deletion, and never resending a delete.
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>

namespace velt::test {
namespace {
namespace asio = boost::asio;

asio::awaitable<delete_status> erase_and_wait(velt::client c, std::string org,
                                              std::vector<std::string> users,
                                              std::shared_ptr<int> polls) {
  delete_user_data_request request{.user_ids = users, .organization_ids = {org}};
  delete_job job = co_await c.async_delete_all_user_data(std::move(request), asio::use_awaitable);
  if (job.job_id.empty()) throw std::runtime_error("empty job id");
  delete_status_request status_request{.job_id = job.job_id};
  delete_status first =
      co_await c.async_get_delete_user_data_status(std::move(status_request), asio::use_awaitable);
  (void)first;
  wait_for_deletion_request w{.job_id = job.job_id, .poll_interval = 20ms, .timeout = 10s};
  w.on_progress = [polls](delete_status const&) { ++*polls; };
  co_return co_await c.async_wait_for_deletion(w, asio::use_awaitable);
}

class ClientDelete : public ::testing::TestWithParam<mock::delete_envelope> {};

TEST_P(ClientDelete, LifecycleErasesTheUsersData) {
  mock::server_options so;
  so.data.users = 4;
  so.data.min_items = 10;
  so.data.empty_user_fraction = 0;
  so.delete_shape = GetParam();
  so.delete_tasks = 3;
  so.delete_task_duration = 30ms;
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto const user = srv.user_ids()[0];
  auto polls = std::make_shared<int>(0);
  delete_status done = run(io, erase_and_wait(c, srv.organization_id(), {user}, polls));
  EXPECT_TRUE(done.is_delete_completed);
  EXPECT_EQ(done.tasks_left, 0);
  ASSERT_TRUE(done.last_task_completed_time.has_value());
  EXPECT_GT(*done.last_task_completed_time, 1'600'000'000'000);
  EXPECT_GE(*polls, 1);
  // Verified erasure: the export is now empty; other users are untouched.
  auto after = run(io, stream_user(c, srv.organization_id(), user));
  for (auto const& [k, v] : after.data) EXPECT_TRUE(v.as_array().empty()) << k;
  auto other = srv.user_ids()[1];
  EXPECT_TRUE(same_export(expected(srv, other), run(io, stream_user(c, srv.organization_id(), other)).data));
}

INSTANTIATE_TEST_SUITE_P(BothEnvelopes, ClientDelete,
                         ::testing::Values(mock::delete_envelope::status_code,
                                           mock::delete_envelope::result),
                         [](auto const& info) { return std::string(mock::to_string(info.param)); });

TEST(ClientDeleteSafety, ADeleteThatMayHaveReachedTheServerIsNotResent) {
  mock::server_options so;
  so.data.users = 2;
  mock::server srv(so);
  srv.add_fault({.kind = mock::fault_kind::close_before_response, .max_times = 1,
                 .endpoint = wire::endpoint::delete_user_data});
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  error_details details;
  auto [ec, job] = run(io, c.async_delete_all_user_data({.user_ids = {srv.user_ids()[0]}},
                                                        details, asio::as_tuple(asio::use_awaitable)));
  EXPECT_TRUE(ec);
  EXPECT_EQ(details.status, status::unavailable);
  EXPECT_NE(details.message.find("not resent"), std::string::npos) << details.message;
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
}

TEST(ClientDeleteSafety, ThrottledDeleteIsRetried) {
  mock::server_options so;
  so.data.users = 2;
  mock::server srv(so);
  mock::fault f{.kind = mock::fault_kind::resource_exhausted, .max_times = 1,
                .endpoint = wire::endpoint::delete_user_data};
  f.retry_after = "0";
  srv.add_fault(f);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto [ec, job] = run(io, c.async_delete_all_user_data({.user_ids = {srv.user_ids()[0]}},
                                                        asio::as_tuple(asio::use_awaitable)));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(job.job_id.empty());
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 2u);
}

TEST(ClientDeleteSafety, ServerErrorOnDeleteIsNotRetried) {
  mock::server_options so;
  so.data.users = 2;
  mock::server srv(so);
  srv.add_fault({.kind = mock::fault_kind::http_error_html, .max_times = 1,
                 .endpoint = wire::endpoint::delete_user_data, .http_status = 502});
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  error_details details;
  auto [ec, job] = run(io, c.async_delete_all_user_data({.user_ids = {srv.user_ids()[0]}},
                                                        details, asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(ec, make_error_code(status::unavailable));
  EXPECT_EQ(details.http_status, 502u);
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
}

TEST(ClientDeleteSafety, WaitForDeletionTimesOut) {
  mock::server_options so;
  so.data.users = 2;
  so.delete_tasks = 5;
  so.delete_task_duration = 10s;
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto [ec, job] = run(io, c.async_delete_all_user_data({.user_ids = {srv.user_ids()[0]}},
                                                        asio::as_tuple(asio::use_awaitable)));
  ASSERT_FALSE(ec);
  error_details details;
  auto [wec, st] = run(io, c.async_wait_for_deletion(
                               {.job_id = job.job_id, .poll_interval = 50ms, .timeout = 300ms},
                               details, asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(wec, make_error_code(errc::deadline_exceeded));
  EXPECT_NE(details.message.find("tasks left"), std::string::npos) << details.message;
}

TEST(ClientDeleteSafety, EmptyUserListIsRefusedBeforeAnyIo) {
  mock::server srv(mock::server_options{});
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  error_details details;
  auto [ec, job] = run(io, c.async_delete_all_user_data({.user_ids = {}}, details,
                                                        asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(ec, make_error_code(errc::invalid_request));
  EXPECT_NE(details.message.find("user_ids"), std::string::npos);
  EXPECT_EQ(srv.stats().requests, 0u);
}

}  // namespace
}  // namespace velt::test
