// SPDX-License-Identifier: BSL-1.0
// The API surface of the mock server over real TLS: every endpoint on v1 and v2, credentials,
// request validation, unknown paths and methods, page tokens, TLS itself.
#include "test_client.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <thread>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using testing::get_body;
using testing::reply;
using testing::request_options;
using testing::test_client;
namespace json = boost::json;

server_options small_options() {
  server_options o;
  o.data.users = 8;
  o.data.max_items = 120;
  o.data.page_size = 50;
  o.data.heavy_items = 300;
  o.delete_task_duration = 20ms;
  return o;
}

/// The error envelope's status, expecting the documented shape.
std::string error_status(reply const& r) {
  auto const e = r.json().as_object().at("error").as_object();
  EXPECT_TRUE(e.at("message").is_string());
  EXPECT_TRUE(e.at("code").is_int64());
  return std::string(e.at("status").as_string());
}

TEST(MockApi, EveryEndpointAnswersOnV1AndV2) {
  server srv(small_options());
  test_client c(srv);
  for (std::string prefix : {"/v1", "/v2"}) {
    reply const page = c.post(prefix + "/users/data/get", get_body("org-1", "user-0001"));
    ASSERT_EQ(page.status, 200u) << page.body;
    EXPECT_EQ(page.header("content-type"), "application/json; charset=utf-8");
    auto const result = page.json().as_object().at("result").as_object();
    EXPECT_EQ(result.at("status"), "success");
    EXPECT_EQ(result.at("message"), "Data fetched successfully.");
    for (auto name : {"comments", "reactions", "recordings", "notifications"}) {
      EXPECT_TRUE(result.at("data").as_object().at(name).is_array()) << name;
    }

    reply const del = c.post(prefix + "/users/data/delete", R"({"data":{"userIds":["nobody"],"organizationIds":["org-1"]}})");
    ASSERT_EQ(del.status, 200u) << del.body;
    json::string const job = del.json().at("result").at("data").at("jobId").as_string();
    EXPECT_EQ(job.size(), 20u);

    reply const st = c.post(prefix + "/users/data/delete/status", R"({"data":{"jobId":")" + std::string(job) + R"("}})");
    ASSERT_EQ(st.status, 200u) << st.body;
    auto const data = st.json().at("result").at("data").as_object();
    EXPECT_TRUE(data.at("isDeleteCompleted").is_bool());
    EXPECT_TRUE(data.at("tasksLeft").is_int64());
  }
  EXPECT_EQ(srv.stats().connections_accepted, 1u) << "one keep-alive connection for everything";
  EXPECT_EQ(srv.stats().requests, 6u);
}

TEST(MockApi, MissingCredentialsAreInvalidArgument) {
  server srv(small_options());
  test_client c(srv);
  request_options no_key;
  no_key.api_key = false;
  reply r = c.post("/v2/users/data/get", get_body("org-1", "user-0001"), no_key);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_status(r), "INVALID_ARGUMENT");
  request_options no_token;
  no_token.auth_token = false;
  r = c.post("/v2/users/data/delete", R"({"data":{"userIds":["user-0001"]}})", no_token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_status(r), "INVALID_ARGUMENT");
  EXPECT_NE(r.json().at("error").at("message").as_string().find("x-velt-auth-token"), json::string::npos);
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 1u);
}

TEST(MockApi, MismatchedErrorCodesLikeTheDocs) {
  auto o = small_options();
  o.mismatched_error_codes = true;
  server srv(o);
  test_client c(srv);
  reply const r = c.post("/v2/users/data/get", R"({"organizationId":"org-1","userId":"user-0001"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_status(r), "INVALID_ARGUMENT");
  EXPECT_EQ(r.json().at("error").at("code"), 500);
}

TEST(MockApi, WrongCredentialsAreRefusedWithoutEchoingThem) {
  server srv(small_options());
  test_client c(srv);
  request_options wrong_key;
  wrong_key.api_key_value = "guessed-key-123";
  reply r = c.post("/v2/users/data/get", get_body("org-1", "user-0001"), wrong_key);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(error_status(r), "PERMISSION_DENIED");
  EXPECT_EQ(r.body.find("guessed-key-123"), std::string::npos);
  request_options wrong_token;
  wrong_token.auth_token_value = "guessed-token-456";
  r = c.post("/v1/users/data/delete/status", R"({"data":{"jobId":"x"}})", wrong_token);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_status(r), "UNAUTHENTICATED");
  EXPECT_EQ(r.body.find("guessed-token-456"), std::string::npos);
}

TEST(MockApi, BadBodiesAreInvalidArgument) {
  server srv(small_options());
  test_client c(srv);
  struct bad {
    char const* path;
    char const* body;
  };
  for (auto const& [path, body] : std::initializer_list<bad>{
           {"/v2/users/data/get", "not json"},
           {"/v2/users/data/get", ""},
           {"/v2/users/data/get", "[1,2]"},
           {"/v2/users/data/get", R"({"organizationId":"org-1","userId":"user-0001"})"},
           {"/v2/users/data/get", R"({"data":"org-1"})"},
           {"/v2/users/data/get", R"({"data":{"organizationId":"org-1"}})"},
           {"/v2/users/data/get", R"({"data":{"userId":"user-0001"}})"},
           {"/v2/users/data/get", R"({"data":{"organizationId":"org-1","userId":""}})"},
           {"/v2/users/data/get", R"({"data":{"organizationId":"org-1","userId":7}})"},
           {"/v2/users/data/get", R"({"data":{"organizationId":"org-1","userId":"user-0001","pageToken":""}})"},
           {"/v2/users/data/get", R"({"data":{"organizationId":"org-1","userId":"user-0001","pageToken":5}})"},
           {"/v2/users/data/delete", R"({"data":{}})"},
           {"/v2/users/data/delete", R"({"data":{"userIds":[]}})"},
           {"/v2/users/data/delete", R"({"data":{"userIds":[""]}})"},
           {"/v2/users/data/delete", R"({"data":{"userIds":"user-0001"}})"},
           {"/v2/users/data/delete", R"({"data":{"userIds":["user-0001"],"organizationIds":"org-1"}})"},
           {"/v2/users/data/delete/status", R"({"data":{}})"},
           {"/v2/users/data/delete/status", R"({"data":{"jobId":""}})"},
       }) {
    reply const r = c.post(path, body);
    EXPECT_EQ(r.status, 400u) << path << " " << body;
    EXPECT_EQ(error_status(r), "INVALID_ARGUMENT") << path << " " << body;
  }
  EXPECT_EQ(srv.stats().connections_accepted, 1u) << "errors keep the connection open";
}

TEST(MockApi, UnknownJobIsNotFound) {
  server srv(small_options());
  test_client c(srv);
  reply const r = c.post("/v2/users/data/delete/status", R"({"data":{"jobId":"dsQuvPmIynANgPLLEhCm"}})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(error_status(r), "NOT_FOUND");
}

TEST(MockApi, UnknownPathsAndWrongMethods) {
  server srv(small_options());
  test_client c(srv);
  for (char const* path : {"/v2/users/data/list", "/v3/users/data/get", "/", "/v2/users/data/get/extra"}) {
    reply const r = c.post(path, get_body("org-1", "user-0001"));
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_EQ(error_status(r), "NOT_FOUND") << path;
  }
  reply r = c.request("GET", "/v2/users/data/get", "");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("allow"), "POST");
  r = c.request("PUT", "/v1/users/data/delete", "{}");
  EXPECT_EQ(r.status, 405u);
  r = c.request("POST", "/_mock/stats", "");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("allow"), "GET");
  r = c.request("POST", "/v2/users/data/get?alt=json", get_body("org-1", "user-0001"));
  EXPECT_EQ(r.status, 200u) << "a query string is ignored";
}

std::string first_token(test_client& c, server const& srv, std::string const& user) {
  reply const r = c.post("/v2/users/data/get", get_body(srv.organization_id(), user));
  EXPECT_EQ(r.status, 200u);
  auto const next = r.json().at("result").as_object().at("nextPageToken");
  return std::string(next.as_string());
}

TEST(MockApi, PageTokensAreVerified) {
  server srv(small_options());
  std::vector<std::string> multi;
  for (auto const& s : srv.user_summaries()) {
    if (s.pages >= 2) multi.push_back(s.user_id);
  }
  ASSERT_GE(multi.size(), 2u);
  test_client c(srv);
  std::string const a = first_token(c, srv, multi[0]);
  std::string const b = first_token(c, srv, multi[1]);
  EXPECT_NE(a.find("=="), std::string::npos) << a;

  auto status_of = [&](std::string const& user, std::string const& token, std::string const& org = "org-1") {
    reply const r = c.post("/v2/users/data/get", get_body(org, user, token));
    if (r.status != 200) {
      EXPECT_EQ(error_status(r), "INVALID_ARGUMENT") << token;
    }
    return r.status;
  };
  EXPECT_EQ(status_of(multi[0], a), 200u);
  std::string flipped = a;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(status_of(multi[0], flipped), 400u);
  std::string other_page = a;
  other_page.back() = '7';
  EXPECT_EQ(status_of(multi[0], other_page), 400u);
  EXPECT_EQ(status_of(multi[0], b), 400u) << "another user's token";
  EXPECT_EQ(status_of(multi[0], a, "org-2"), 400u) << "another organization";
  EXPECT_EQ(status_of(multi[0], "bhdwdqwjs298e39e479ddkeuw==329"), 400u);
  EXPECT_EQ(status_of(multi[0], "\xff\xfe garbage"), 400u);

  // A token from a server with another seed (another secret) is foreign.
  auto o = small_options();
  o.data.seed = 99;
  server other(o);
  test_client oc(other);
  std::string const foreign = first_token(oc, other, multi[0]);
  if (!foreign.empty()) {
    EXPECT_EQ(status_of(multi[0], foreign), 400u);
  }
}

TEST(MockApi, UnknownUserOrOrganizationGetsOneEmptyLastPage) {
  server srv(small_options());
  test_client c(srv);
  for (auto const& [org, user] : {std::pair{"org-1", "no-such-user"}, std::pair{"org-2", "user-0001"}}) {
    reply const r = c.post("/v2/users/data/get", get_body(org, user));
    ASSERT_EQ(r.status, 200u);
    auto const result = r.json().at("result").as_object();
    EXPECT_FALSE(result.contains("nextPageToken"));
    for (auto const& [k, v] : result.at("data").as_object()) EXPECT_TRUE(v.as_array().empty()) << k;
  }
  EXPECT_EQ(srv.expected_pages("no-such-user"), 1u);
}

TEST(MockApi, StatsEndpointNeedsNoCredentials) {
  server srv(small_options());
  test_client c(srv);
  (void)c.post("/v2/users/data/get", get_body("org-1", "user-0002"));
  request_options none;
  none.api_key = none.auth_token = false;
  reply const r = c.request("GET", "/_mock/stats", "", none);
  ASSERT_EQ(r.status, 200u);
  auto const s = r.json().as_object();
  EXPECT_EQ(s.at("requests"), 1u);
  EXPECT_EQ(s.at("connections_accepted"), 1u);
  EXPECT_EQ(s.at("page_requests").at("user-0002").at("0"), 1u);
  EXPECT_EQ(srv.stats().requests, 1u) << "stats requests are not counted";
}

TEST(MockApi, PlainHttpOnlyWhenAskedFor) {
  auto o = small_options();
  o.tls = false;
  server srv(o);
  EXPECT_TRUE(srv.url().starts_with("http://127.0.0.1:"));
  EXPECT_TRUE(srv.ca_file().empty());
  test_client c(srv);
  reply const r = c.post("/v2/users/data/get", get_body("org-1", "user-0001"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, srv.page_body("user-0001", 0));

  server tls(small_options());
  EXPECT_TRUE(tls.url().starts_with("https://127.0.0.1:"));
  EXPECT_TRUE(std::filesystem::exists(tls.ca_file()));
}

TEST(MockApi, CertificateIsVerifiedForHostAndTime) {
  server srv(small_options());
  EXPECT_FALSE(test_client::try_connect(srv, "127.0.0.1"));
  EXPECT_FALSE(test_client::try_connect(srv, "localhost"));
  EXPECT_TRUE(test_client::try_connect(srv, "api.velt.dev")) << "no SAN for this name";
  auto o = small_options();
  o.cert_expired = true;
  server expired(o);
  EXPECT_TRUE(test_client::try_connect(expired, "127.0.0.1"));
  auto const deadline = std::chrono::steady_clock::now() + 5s;
  while (expired.stats().handshake_failures == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(expired.stats().handshake_failures, 1u);
  EXPECT_EQ(expired.stats().handshakes_full, 0u);
}

TEST(MockApi, ConnectionCloseRequestIsHonoured) {
  server srv(small_options());
  test_client c(srv);
  request_options close;
  close.headers.emplace_back("Connection", "close");
  reply const r = c.post("/v2/users/data/get", get_body("org-1", "user-0001"), close);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("connection"), "close");
  auto const [rest, ec] = c.read_to_end();
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(ec) << "the server closed the connection";
}

TEST(MockApi, StopClosesOpenConnections) {
  auto srv = std::make_unique<server>(small_options());
  test_client c(*srv);
  EXPECT_EQ(c.post("/v2/users/data/get", get_body("org-1", "user-0001")).status, 200u);
  auto const t0 = std::chrono::steady_clock::now();
  srv.reset();  // stops, closes every connection, joins
  auto const [rest, ec] = c.read_to_end();
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(ec);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(MockApi, ServerCanBeStoppedAndRestartedOnNewPorts) {
  auto o = small_options();
  o.threads = 2;
  server a(o);
  std::uint16_t const port = a.port();
  EXPECT_NE(port, 0);
  a.stop();
  a.stop();
  server b(o);
  test_client c(b);
  EXPECT_EQ(c.post("/v2/users/data/get", get_body("org-1", "user-0001")).status, 200u);
}

}  // namespace
}  // namespace velt::mock
