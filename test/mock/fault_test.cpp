// SPDX-License-Identifier: BSL-1.0
// Every fault kind observably does what it says, and faults hit only the requests their
// filters select.
#include "test_client.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>

#include <thread>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using testing::get_body;
using testing::reply;
using testing::test_client;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

server_options fault_options() {
  server_options o;
  o.data.users = 6;
  o.data.empty_user_fraction = 0;
  o.data.min_items = 60;
  o.data.max_items = 120;
  o.data.page_size = 50;
  return o;
}

fault make(fault_kind k) {
  fault f;
  f.kind = k;
  return f;
}

std::string const page_path = "/v2/users/data/get";

struct MockFaultKinds : ::testing::Test {
  server srv{fault_options()};
  std::string user = "user-0001";
  std::string body = get_body("org-1", "user-0001");

  reply get(test_client& c) { return c.post(page_path, body); }
};

TEST_F(MockFaultKinds, Latency) {
  fault f = make(fault_kind::latency);
  f.latency = 150ms;
  f.jitter = 20ms;
  srv.add_fault(f);
  test_client c(srv);
  auto const t0 = clock_type::now();
  EXPECT_EQ(get(c).status, 200u);
  auto const took = clock_type::now() - t0;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2s);
  srv.clear_faults();
  srv.set_latency(100ms, 0ms);
  auto const t1 = clock_type::now();
  EXPECT_EQ(get(c).status, 200u);
  EXPECT_GE(clock_type::now() - t1, 100ms);
  EXPECT_EQ(srv.stats().faults_of(fault_kind::latency), 1u) << "set_latency is not a counted fault";
}

TEST_F(MockFaultKinds, Throttle429WithRetryAfterSecondsOrDate) {
  fault f = make(fault_kind::throttle_429);
  f.retry_after = "2";
  f.max_times = 1;
  srv.add_fault(f);
  fault d = make(fault_kind::throttle_429);
  d.retry_after = "+60";
  d.nth_request = 2;
  srv.add_fault(d);
  test_client c(srv);
  reply r = get(c);
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.header("retry-after"), "2");
  EXPECT_TRUE(r.header("content-type").starts_with("text/plain"));
  r = get(c);
  EXPECT_EQ(r.status, 429u);
  EXPECT_TRUE(r.header("retry-after").ends_with(" GMT")) << r.header("retry-after");
  EXPECT_EQ(get(c).status, 200u);
  EXPECT_EQ(srv.stats().faults_of(fault_kind::throttle_429), 2u);
  EXPECT_EQ(srv.stats().requests_for(user, 0), 3u) << "throttled requests are counted";
}

TEST_F(MockFaultKinds, HttpErrorsWithJsonOrHtml) {
  fault j = make(fault_kind::http_error_json);
  j.http_status = 502;
  j.nth_request = 1;
  srv.add_fault(j);
  fault t = make(fault_kind::http_error_json);
  t.http_status = 504;
  t.nth_request = 2;
  srv.add_fault(t);
  fault h = make(fault_kind::http_error_html);
  h.http_status = 503;
  h.nth_request = 3;
  srv.add_fault(h);
  test_client c(srv);
  reply r = get(c);
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(r.json().at("error").at("status"), "UNAVAILABLE");
  r = get(c);
  EXPECT_EQ(r.status, 504u);
  EXPECT_EQ(r.json().at("error").at("status"), "DEADLINE_EXCEEDED");
  r = get(c);
  EXPECT_EQ(r.status, 503u);
  EXPECT_TRUE(r.header("content-type").starts_with("text/html"));
  EXPECT_TRUE(r.body.starts_with("<!DOCTYPE html>"));
  EXPECT_ANY_THROW((void)r.json());
  EXPECT_EQ(get(c).status, 200u);
}

TEST_F(MockFaultKinds, ResourceExhaustedAndUnavailableEnvelopes) {
  fault re = make(fault_kind::resource_exhausted);
  re.retry_after = "7";
  re.nth_request = 1;
  srv.add_fault(re);
  fault un = make(fault_kind::unavailable);
  un.nth_request = 2;
  srv.add_fault(un);
  test_client c(srv);
  reply r = get(c);
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.header("retry-after"), "7");
  EXPECT_EQ(r.json().at("error").at("status"), "RESOURCE_EXHAUSTED");
  r = get(c);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.json().at("error").at("status"), "UNAVAILABLE");
}

TEST_F(MockFaultKinds, CloseBeforeResponse) {
  srv.add_fault(make(fault_kind::close_before_response));
  test_client c(srv);
  ASSERT_FALSE(c.send("POST", page_path, body));
  auto const [data, ec] = c.read_to_end();
  EXPECT_TRUE(data.empty());
  EXPECT_TRUE(ec);
  EXPECT_EQ(srv.stats().requests_for(user, 0), 1u);
}

TEST_F(MockFaultKinds, ResetMidBody) {
  srv.add_fault(make(fault_kind::reset_mid_body));
  test_client c(srv);
  ASSERT_FALSE(c.send("POST", page_path, body));
  auto const [data, ec] = c.read_to_end();
  EXPECT_TRUE(data.starts_with("HTTP/1.1 200 OK\r\n")) << data.substr(0, 100);
  auto const full = srv.page_body(user, 0);
  EXPECT_NE(data.find("Content-Length: " + std::to_string(full.size())), std::string::npos);
  EXPECT_LT(data.size(), full.size());
  EXPECT_GT(data.size(), 1000u) << "part of the body arrived";
  EXPECT_EQ(ec, boost::asio::error::connection_reset) << ec.message();
}

TEST_F(MockFaultKinds, TruncatedBody) {
  srv.add_fault(make(fault_kind::truncated_body));
  test_client c(srv);
  ASSERT_FALSE(c.send("POST", page_path, body));
  reply r;
  EXPECT_EQ(c.receive(r), boost::beast::http::error::partial_message);
  test_client d(srv);
  ASSERT_FALSE(d.send("POST", page_path, body));
  auto const [data, ec] = d.read_to_end();
  auto const full = srv.page_body(user, 0);
  auto const head_end = data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(data.find("Content-Length: " + std::to_string(full.size())), std::string::npos);
  EXPECT_EQ(data.size() - head_end - 4, full.size() / 2);
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, boost::asio::error::connection_reset);
}

TEST_F(MockFaultKinds, MalformedJson) {
  fault f = make(fault_kind::malformed_json);
  f.max_times = 1;
  srv.add_fault(f);
  test_client c(srv);
  reply const r = get(c);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_ANY_THROW((void)r.json());
  EXPECT_TRUE(srv.page_body(user, 0).starts_with(r.body));
  EXPECT_EQ(get(c).body, srv.page_body(user, 0)) << "the connection stays usable";
}

TEST_F(MockFaultKinds, SlowDrip) {
  fault f = make(fault_kind::slow_drip);
  f.latency = 30ms;
  srv.add_fault(f);
  test_client c(srv);
  auto const t0 = clock_type::now();
  reply const r = get(c);
  EXPECT_GE(clock_type::now() - t0, 16 * 30ms);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, srv.page_body(user, 0));
}

TEST_F(MockFaultKinds, ConnectionClose) {
  srv.add_fault(make(fault_kind::connection_close));
  test_client c(srv);
  reply const r = get(c);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(r.body, srv.page_body(user, 0));
  auto const [rest, ec] = c.read_to_end();
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(ec);
}

TEST_F(MockFaultKinds, Chunked) {
  srv.add_fault(make(fault_kind::chunked));
  test_client c(srv);
  reply const r = get(c);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.body, srv.page_body(user, 0));
  EXPECT_EQ(get(c).body, srv.page_body(user, 0)) << "keep-alive after a chunked response";
}

TEST_F(MockFaultKinds, OversizedHeaders) {
  srv.add_fault(make(fault_kind::oversized_headers));
  test_client c(srv);
  ASSERT_FALSE(c.send("POST", page_path, body));
  reply r;
  EXPECT_EQ(c.receive(r, 8 * 1024), boost::beast::http::error::header_limit);
  test_client d(srv);
  ASSERT_FALSE(d.send("POST", page_path, body));
  ASSERT_FALSE(d.receive(r, 1024 * 1024));
  std::size_t padding = 0;
  for (auto const& [name, value] : r.headers) {
    if (name.starts_with("x-mock-padding-")) padding += value.size();
  }
  EXPECT_GE(padding, 100u * 1024);
  EXPECT_EQ(r.body, srv.page_body(user, 0));
}

TEST(MockFaults, IdleKeepAliveConnectionsAreClosedWithoutNotice) {
  auto o = fault_options();
  o.idle_timeout = 100ms;
  server srv(o);
  test_client c(srv);
  auto const t0 = clock_type::now();
  EXPECT_EQ(c.post(page_path, get_body("org-1", "user-0001")).status, 200u);
  auto const deadline = t0 + 5s;
  while ((srv.stats().idle_closes == 0 || srv.stats().active_connections != 0) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(clock_type::now() - t0, 100ms);
  EXPECT_EQ(srv.stats().idle_closes, 1u);
  EXPECT_EQ(srv.stats().active_connections, 0u);
  boost::system::error_code ec = c.send("POST", page_path, get_body("org-1", "user-0001"));
  reply r;
  if (!ec) ec = c.receive(r);
  EXPECT_TRUE(ec) << "a stale keep-alive connection fails";
}

TEST(MockFaults, FiltersTargetUserPageEndpointAndRequestNumber) {
  server srv(fault_options());
  auto const summaries = srv.user_summaries();
  std::string multi;
  for (auto const& s : summaries) {
    if (s.pages >= 2 && multi.empty()) multi = s.user_id;
  }
  ASSERT_FALSE(multi.empty());
  fault f = make(fault_kind::unavailable);
  f.user_id = multi;
  f.page_index = 1;
  srv.add_fault(f);
  fault g = make(fault_kind::http_error_json);
  g.endpoint = wire::endpoint::delete_status;
  srv.add_fault(g);
  test_client c(srv);
  reply const p0 = c.post(page_path, get_body("org-1", multi));
  ASSERT_EQ(p0.status, 200u);
  std::string const token(p0.json().at("result").at("nextPageToken").as_string());
  EXPECT_EQ(c.post(page_path, get_body("org-1", multi, token)).status, 503u);
  EXPECT_EQ(c.post(page_path, get_body("org-1", multi, token)).status, 503u);
  EXPECT_EQ(c.post(page_path, get_body("org-1", "user-0002")).status, 200u);
  EXPECT_EQ(c.post("/v1/users/data/delete/status", R"({"data":{"jobId":"x"}})").status, 503u);
  EXPECT_EQ(c.post("/v1/users/data/delete", R"({"data":{"userIds":["x"]}})").status, 200u);
  auto const s = srv.stats();
  EXPECT_EQ(s.requests_for(multi, 1), 2u);
  EXPECT_EQ(s.faults_of(fault_kind::unavailable), 2u);
  EXPECT_EQ(s.faults_of(fault_kind::http_error_json), 1u);
  EXPECT_EQ(s.faults_injected, 3u);
}

TEST(MockFaults, ProbabilityIsDeterministicForASeed) {
  auto run = [](std::uint64_t seed) {
    auto o = fault_options();
    o.data.seed = seed;
    fault f = make(fault_kind::throttle_429);
    f.probability = 0.5;
    o.faults.push_back(f);
    server srv(o);
    test_client c(srv);
    std::string pattern;
    for (int i = 0; i < 40; ++i) pattern += c.post(page_path, get_body("org-1", "user-0001")).status == 429 ? 'T' : '.';
    return pattern;
  };
  std::string const a = run(5);
  EXPECT_EQ(a, run(5));
  EXPECT_NE(a, run(6));
  EXPECT_NE(a.find('T'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
}

TEST(MockFaults, ResetStatsRestartsRequestNumbering) {
  server srv(fault_options());
  test_client c(srv);
  EXPECT_EQ(c.post(page_path, get_body("org-1", "user-0001")).status, 200u);
  srv.reset_stats();
  fault f = make(fault_kind::unavailable);
  f.nth_request = 1;
  srv.add_fault(f);
  EXPECT_EQ(c.post(page_path, get_body("org-1", "user-0001")).status, 503u);
  EXPECT_EQ(srv.stats().requests, 1u);
}

}  // namespace
}  // namespace velt::mock
