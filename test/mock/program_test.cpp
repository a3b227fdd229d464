// The velt-mock-server program: its ready line, serving, flags, clean stop on SIGTERM.
#include "test_client.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

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

/// The program running as a child process with its stdout on a pipe.
class child {
 public:
  explicit child(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    args.insert(args.begin(), VELT_MOCK_SERVER_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int const rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  /// Reads stdout until a newline (or EOF / timeout); returns the line without it.
  std::optional<std::string> read_line(std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      if (!read_some(deadline)) return std::nullopt;
    }
  }

  /// Everything else on stdout until EOF.
  std::string read_rest(std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    while (read_some(deadline)) {
    }
    return std::exchange(buffered_, {});
  }

  /// Sends a signal and waits for the exit; returns the wait status or -1 on timeout.
  int stop(int sig, std::chrono::milliseconds limit) {
    ::kill(pid_, sig);
    return wait(limit);
  }
  int wait(std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t const n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
};

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
  child c({"--users", "12", "--seed", "3", "--items", "5..40", "--fault", "kind=throttle_429,nth=1,retry_after=3",
           "--write-expected", expected_file.string()});
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

  int const status = c.stop(SIGTERM, 10s);
  ASSERT_NE(status, -1) << "did not stop";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(c.read_rest(2s), "") << "nothing but the ready line on stdout";
}

TEST(MockProgram, SigintAndPlainHttp) {
  child c({"--plain-http", "--users", "3", "--api-key", "k1", "--auth-token", "t1", "--end-style", "null"});
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
  int const status = c.stop(SIGINT, 10s);
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(MockProgram, HelpDocumentsEveryFlag) {
  child c({"--help"});
  std::string const help = c.read_rest(20s);
  EXPECT_EQ(c.wait(10s), 0);
  for (char const* flag : {"--users", "--items", "--seed", "--page-size", "--end-style", "--delete-envelope",
                           "--threads", "--port", "--plain-http", "--cert", "--key", "--ca", "--api-key",
                           "--auth-token", "--latency", "--fault", "--idle-timeout", "--write-expected",
                           "--verbose", "--extra-feature", "--delete-tasks", "--delete-task-ms", "--rate-limit",
                           "--rate-limit-answer", "--quota", "--max-concurrent", "--max-concurrent-answer",
                           "--outage", "--outage-mode"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(MockProgram, BadFlagsFail) {
  for (auto args : {std::vector<std::string>{"--fault", "kind=nonsense"}, std::vector<std::string>{"--items", "x..y"},
                    std::vector<std::string>{"--end-style", "sometimes"},
                    std::vector<std::string>{"--rate-limit", "0"}, std::vector<std::string>{"--quota", "30"},
                    std::vector<std::string>{"--outage", "2s"}, std::vector<std::string>{"--outage-mode", "maybe"}}) {
    child c(args);
    EXPECT_FALSE(c.read_line(20s)) << args[1];
    int const status = c.wait(20s);
    ASSERT_NE(status, -1);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0) << args[1];
  }
}

}  // namespace
}  // namespace velt::mock
