// SPDX-License-Identifier: BSL-1.0
// The velt-mock-server program: its ready line, serving, flags, clean stop on SIGTERM.
#include "test_client.hpp"
#include "../support/subprocess.hpp"

#include <velt/version.hpp>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using testing::get_body;
using testing::peer;
using testing::reply;
using testing::test_client;
namespace json = boost::json;

#ifndef VELT_MOCK_SERVER_PATH
#error "VELT_MOCK_SERVER_PATH must name the built velt-mock-server"
#endif

/// The program's argv: its path, then `args`.
std::vector<std::string> mock_server(std::vector<std::string> args) {
  args.insert(args.begin(), VELT_MOCK_SERVER_PATH);
  return args;
}

using velt::test::subprocess;

peer peer_of(json::object const& ready) {
  std::string const url(ready.at("url").as_string());
  peer p;
  p.tls = url.starts_with("https://");
  auto const colon = url.rfind(':');
  p.port = static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1)));
  p.ca_file = std::string(ready.at("ca_file").as_string());
  p.api_key = std::string(ready.at("api_key").as_string());
  p.auth_token = std::string(ready.at("auth_token").as_string());
  return p;
}

TEST(MockProgram, ReadyLineServesAndStopsCleanlyOnSigterm) {
  auto const expected_file = std::filesystem::temp_directory_path() / ("velt-mock-program-" + std::to_string(::getpid()) + ".json");
  subprocess c(mock_server({"--users", "12", "--seed", "3", "--items", "5..40", "--fault", "kind=throttle_429,nth=1,retry_after=3",
           "--write-expected", expected_file.string()}));
  auto const line = c.read_line(30s);
  ASSERT_TRUE(line) << "no ready line";
  json::object const ready = json::parse(*line).as_object();
  EXPECT_TRUE(ready.at("url").as_string().starts_with("https://127.0.0.1:"));
  EXPECT_EQ(ready.at("api_key"), "test-api-key");
  EXPECT_EQ(ready.at("auth_token"), "test-auth-token");
  EXPECT_EQ(ready.at("organization_id"), "org-1");
  auto const& ids = ready.at("user_ids").as_array();
  ASSERT_EQ(ids.size(), 10u);
  EXPECT_EQ(ids[0], "user-0001");
  EXPECT_EQ(ids[9], "user-0010");
  EXPECT_TRUE(std::filesystem::exists(std::string(ready.at("ca_file").as_string())));
  EXPECT_TRUE(std::filesystem::exists(expected_file));

  {
    test_client client(peer_of(ready));
    reply const throttled = client.post("/v2/users/data/get", get_body("org-1", "user-0001"));
    EXPECT_EQ(throttled.status, 429u);
    EXPECT_EQ(throttled.header("retry-after"), "3");
    reply const page = client.post("/v2/users/data/get", get_body("org-1", "user-0001"));
    ASSERT_EQ(page.status, 200u);
    // Same seed, same bytes: in another process too.
    server_options o;
    o.data.users = 12;
    o.data.seed = 3;
    o.data.min_items = 5;
    o.data.max_items = 40;
    server same(o);
    EXPECT_EQ(page.body, same.page_body("user-0001", 0));
  }
  std::ifstream in(expected_file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(json::parse(text.str()).at("users").as_object().size(), 12u);
  std::filesystem::remove(expected_file);

  c.signal(SIGTERM);
  auto const status = c.wait(10s);
  ASSERT_TRUE(status) << "did not stop";
  EXPECT_EQ(*status, 0);  // an exit status, not 128 + a signal
  EXPECT_EQ(c.read_all(2s), "") << "nothing but the ready line on stdout";
}

TEST(MockProgram, SigintAndPlainHttp) {
  subprocess c(
      mock_server({"--plain-http", "--users", "3", "--api-key", "k1", "--auth-token", "t1", "--end-style", "null"}));
  auto const line = c.read_line(30s);
  ASSERT_TRUE(line);
  json::object const ready = json::parse(*line).as_object();
  EXPECT_TRUE(ready.at("url").as_string().starts_with("http://127.0.0.1:"));
  EXPECT_EQ(ready.at("user_ids").as_array().size(), 3u);
  {
    test_client client(peer_of(ready));
    reply const page = client.post("/v2/users/data/get", get_body("org-1", "user-0001"));
    ASSERT_EQ(page.status, 200u) << page.body;
    EXPECT_TRUE(page.json().at("result").as_object().contains("nextPageToken"));
  }
  c.signal(SIGINT);
  auto const status = c.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);  // an exit status, not 128 + a signal
}

TEST(MockProgram, MediaUsersAndTheirFiles) {
  subprocess c(mock_server({"--users", "2", "--media-users", "1", "--media-fault-users", "1"}));
  auto const line = c.read_line(30s);
  ASSERT_TRUE(line) << "no ready line";
  json::object const ready = json::parse(*line).as_object();
  auto const& ids = ready.at("user_ids").as_array();
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[ids.size() - 2], "media-0001");
  EXPECT_EQ(ids[ids.size() - 1], "media-fault-0001");
  {
    test_client client(peer_of(ready));
    reply const page = client.post("/v2/users/data/get", get_body("org-1", "media-0001"));  // one page: <= 6 items
    ASSERT_EQ(page.status, 200u);
    json::value const data = page.json().at("result").at("data");
    std::string const url(data.at("recordings").as_array().at(0).at("transcription").at("vttFileUrl").as_string());
    std::string const origin(ready.at("url").as_string());
    ASSERT_TRUE(url.starts_with(origin + "/media/ok/")) << url;
    testing::request_options none;
    none.api_key = none.auth_token = false;
    reply const vtt = client.request("GET", url.substr(origin.size()), "", none);
    EXPECT_EQ(vtt.status, 200u);
    EXPECT_TRUE(vtt.body.starts_with("WEBVTT")) << vtt.body;
  }
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(10s), 0);
}

TEST(MockProgram, HelpDocumentsEveryFlag) {
  subprocess c(mock_server({"--help"}));
  std::string const help = c.read_all(20s);
  EXPECT_EQ(c.wait(10s), 0);
  for (char const* flag : {"--users", "--items", "--seed", "--page-size", "--end-style", "--delete-envelope",
                           "--threads", "--port", "--plain-http", "--cert", "--key", "--ca", "--api-key",
                           "--auth-token", "--latency", "--fault", "--idle-timeout", "--write-expected",
                           "--verbose", "--extra-feature", "--delete-tasks", "--delete-task-ms", "--rate-limit",
                           "--rate-limit-answer", "--quota", "--max-concurrent", "--max-concurrent-answer",
                           "--outage", "--outage-mode", "--media-users", "--media-fault-users"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(MockProgram, VersionIsTheLibraryVersion) {
  subprocess c(mock_server({"--version"}));
  EXPECT_EQ(c.read_all(20s), std::string("velt-mock-server ") + velt::version() + "\n");
  EXPECT_EQ(c.wait(10s), 0);
}

TEST(MockProgram, BadFlagsFail) {
  for (auto args : {std::vector<std::string>{"--fault", "kind=nonsense"}, std::vector<std::string>{"--items", "x..y"},
                    std::vector<std::string>{"--end-style", "sometimes"},
                    std::vector<std::string>{"--rate-limit", "0"}, std::vector<std::string>{"--quota", "30"},
                    std::vector<std::string>{"--outage", "2s"}, std::vector<std::string>{"--outage-mode", "maybe"}}) {
    subprocess c(mock_server(args));
    EXPECT_FALSE(c.read_line(20s)) << args[1];
    auto const status = c.wait(20s);
    ASSERT_TRUE(status);
    EXPECT_NE(*status, 0) << args[1];
    EXPECT_LT(*status, 128) << args[1] << ": killed by a signal, not an exit status";
  }
}

}  // namespace
}  // namespace velt::mock
