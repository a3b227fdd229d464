// SPDX-License-Identifier: BSL-1.0
// Counters: connections, full and resumed TLS handshakes, requests per user and page,
// concurrency on several server threads.
#include "test_client.hpp"

#include "json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <atomic>
#include <thread>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using testing::get_body;
using testing::test_client;
using testing::walk_export;
namespace json = boost::json;

server_options stats_options() {
  server_options o;
  o.data.users = 8;
  o.data.max_items = 150;
  o.data.page_size = 50;
  o.data.heavy_items = 300;
  return o;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(MockStats, FullAndResumedHandshakes) {
  server srv(stats_options());
  SSL_SESSION* session = nullptr;
  {
    test_client first(srv);
    EXPECT_FALSE(first.resumed());
    EXPECT_EQ(first.post("/v2/users/data/get", get_body("org-1", "user-0001")).status, 200u);
    session = first.get1_session();  // TLS 1.3 tickets arrive after the handshake
    first.shutdown();  // a session closed without close_notify is not resumable
  }
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(SSL_SESSION_is_resumable(session), 1);
  {
    test_client second(srv, session);
    EXPECT_TRUE(second.resumed());
    EXPECT_EQ(second.post("/v2/users/data/get", get_body("org-1", "user-0001")).status, 200u);
  }
  {
    test_client third(srv);
    EXPECT_FALSE(third.resumed());
  }
  SSL_SESSION_free(session);
  // The server finishes a TLS 1.3 handshake after the client does: wait for its count.
  EXPECT_TRUE(eventually([&] { return srv.stats().handshakes_full + srv.stats().handshakes_resumed == 3; }));
  auto const s = srv.stats();
  EXPECT_EQ(s.connections_accepted, 3u);
  EXPECT_EQ(s.handshakes_full, 2u);
  EXPECT_EQ(s.handshakes_resumed, 1u);
  EXPECT_EQ(s.handshake_failures, 0u);
}

TEST(MockStats, RequestsPerUserAndPage) {
  server srv(stats_options());
  std::string multi;
  for (auto const& s : srv.user_summaries()) {
    if (s.pages >= 3 && multi.empty()) multi = s.user_id;
  }
  ASSERT_FALSE(multi.empty());
  test_client c(srv);
  auto const w = walk_export(c, srv, multi);
  (void)c.post("/v2/users/data/get", get_body("org-1", multi));
  (void)c.post("/v2/users/data/get", get_body("org-1", multi, std::string("tampered==1")));
  (void)c.post("/v1/users/data/delete", R"({"data":{"userIds":["user-0001"]}})");
  auto const s = srv.stats();
  EXPECT_EQ(s.requests_for(multi, 0), 2u);
  for (std::size_t p = 1; p < w.bodies.size(); ++p) EXPECT_EQ(s.requests_for(multi, p), 1u) << p;
  EXPECT_EQ(s.requests_for_user(multi), w.bodies.size() + 1);
  EXPECT_EQ(s.requests_for_user("user-0001"), 0u);
  EXPECT_EQ(s.requests_to(wire::endpoint::get_user_data), w.bodies.size() + 2);
  EXPECT_EQ(s.requests_to(wire::endpoint::delete_user_data), 1u);
  EXPECT_EQ(s.requests, w.bodies.size() + 3);
  EXPECT_EQ(s.pages_served, w.bodies.size() + 1);
  EXPECT_GT(s.response_bytes, 10'000u);
  EXPECT_EQ(s.to_json().at("page_requests").at(multi).at("0"), 2u);
  srv.reset_stats();
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_EQ(srv.stats().requests_for(multi, 0), 0u);
  EXPECT_EQ(srv.stats().active_connections, 1u) << "the open connection is still counted";
}

TEST(MockStats, UnknownDataMembersAreIgnoredAndRecorded) {
  auto o = stats_options();
  o.recorded_requests = 3;
  server srv(o);
  test_client c(srv);
  // What newer Velt SDKs send: the answer is the page the plain request gets.
  std::string const with_extras =
      R"({"data":{"organizationId":"org-1","userId":"user-0001","veltUserIds":["a","b"],)"
      R"("veltAllOrganizations":true,"uniqueId":"u-1"}})";
  auto const r = c.post("/v2/users/data/get", with_extras);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.body, srv.page_body("user-0001", 0));
  EXPECT_EQ(srv.stats().requests_for("user-0001", 0), 1u);

  auto rec = srv.recent_requests();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].number, 1u);
  EXPECT_EQ(rec[0].endpoint, wire::endpoint::get_user_data);
  EXPECT_EQ(rec[0].data, json::parse(with_extras).at("data").as_object());

  // Every endpoint, refused requests too (credentials: no body read); /_mock/... never.
  EXPECT_EQ(c.post("/v1/users/data/delete", R"({"data":{"userIds":["nobody"],"uniqueId":7}})").status, 200u);
  EXPECT_EQ(c.request("GET", "/_mock/stats", "").status, 200u);
  testing::request_options wrong_key;
  wrong_key.api_key_value = "not-the-key";
  EXPECT_EQ(c.post("/v2/users/data/get", get_body("org-1", "user-0002"), wrong_key).status, 403u);
  EXPECT_EQ(c.post("/v2/users/data/delete/status", R"({"data":{"jobId":"none"}})").status, 404u);
  rec = srv.recent_requests();
  ASSERT_EQ(rec.size(), 3u) << "the oldest is dropped";
  EXPECT_EQ(rec[0].number, 2u);
  EXPECT_EQ(rec[0].endpoint, wire::endpoint::delete_user_data);
  EXPECT_EQ(rec[0].data.at("uniqueId"), 7);
  EXPECT_EQ(rec[1].endpoint, wire::endpoint::get_user_data);
  EXPECT_TRUE(rec[1].data.empty());
  EXPECT_EQ(rec[2].endpoint, wire::endpoint::delete_status);
  EXPECT_EQ(rec[2].data.at("jobId"), "none");

  srv.reset_stats();
  EXPECT_TRUE(srv.recent_requests().empty());

  // Off by default.
  server quiet(stats_options());
  test_client q(quiet);
  EXPECT_EQ(q.post("/v2/users/data/get", with_extras).status, 200u);
  EXPECT_TRUE(quiet.recent_requests().empty());
}

TEST(MockStats, ManyClientsOnSeveralServerThreads) {
  auto o = stats_options();
  o.threads = 4;
  server srv(o);
  auto const ids = srv.user_ids();
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      try {
        test_client c(srv);
        for (std::size_t i = 0; i < ids.size(); ++i) {
          auto const& id = ids[(i + static_cast<std::size_t>(t)) % ids.size()];
          auto const w = walk_export(c, srv, id);
          if (w.merged != json::parse(detail::to_json(srv.expected_export(id))).as_object()) ++failures;
        }
      } catch (std::exception const&) {
        ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto const s = srv.stats();
  EXPECT_EQ(s.connections_accepted, 6u);
  EXPECT_GE(s.max_active_connections, 2u);
  EXPECT_TRUE(eventually([&] { return srv.stats().active_connections == 0; }));
}

}  // namespace
}  // namespace velt::mock
