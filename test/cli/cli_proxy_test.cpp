// SPDX-License-Identifier: BSL-1.0
// velt-gdpr through an HTTP proxy: `--proxy URL`, `--no-proxy`, and HTTPS_PROXY / NO_PROXY
// from the environment, against a real tinyproxy (test/support/tinyproxy.hpp) on loopback
// in front of the local server over TLS. Suite CliProxy needs /usr/bin/tinyproxy (registered
// with label "proxy" only when it is installed); CliProxyOptions (refusals before any I/O,
// the demo) needs no proxy and always runs.
#include "cli_support.hpp"

#include "../support/tinyproxy.hpp"

#include <string>
#include <vector>

namespace velt::test::cli {
namespace {

constexpr char const* proxy_user = "velt-cli";
constexpr char const* proxy_password = "Cli-Proxy-Pw.s3cret_9";
/// A proxy nobody listens on (port 1 on loopback: connection refused).
constexpr char const* dead_proxy = "http://127.0.0.1:1";

std::vector<std::string> with_env(mock::server const& srv, std::vector<std::string> more) {
  auto env = credentials_env(srv);
  env.insert(env.end(), more.begin(), more.end());
  return env;
}

/// An export of every user of `srv` into dir/out, with `extra` arguments.
std::vector<std::string> export_all(mock::server const& srv, temp_dir const& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> e{"--users-file", users_file(dir, srv.user_ids()).string()};
  e.insert(e.end(), extra.begin(), extra.end());
  return export_command(srv, dir.path() / "out", e);
}

void expect_no_password(run_result const& r, fs::path const& out, std::string const& password) {
  EXPECT_EQ(r.err.find(password), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find(password), std::string::npos) << r.out;
  for (auto const& [name, text] : files_in(out))
    EXPECT_EQ(text.find(password), std::string::npos) << name;
}

TEST(CliProxy, ExportThroughProxyFlagMatchesTheServersData) {
  mock::server srv(small_server(6));
  tinyproxy tp;
  temp_dir dir;
  auto const r = run(export_all(srv, dir, {"--proxy", tp.url()}), credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir.path() / "out", srv.user_ids());
  EXPECT_GE(tp.connects(), 1u) << tp.log();
  EXPECT_NE(tp.log().find("CONNECT 127.0.0.1:" + std::to_string(srv.port())), std::string::npos) << tp.log();
}

TEST(CliProxy, ExportThroughHttpsProxyVariableWithCredentials) {
  mock::server srv(small_server(4));
  tinyproxy tp({.basic_auth = std::pair<std::string, std::string>{proxy_user, proxy_password}});
  temp_dir dir;
  std::string const url = tp.url(std::string(proxy_user) + ":" + proxy_password);
  // Lower case first, as curl: HTTPS_PROXY points nowhere.
  auto const r = run(export_all(srv, dir, {"--log-level", "debug"}),
                     with_env(srv, {"https_proxy=" + url, std::string("HTTPS_PROXY=") + dead_proxy}));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir.path() / "out", srv.user_ids());
  EXPECT_GE(tp.connects(), 1u);
  EXPECT_NE(r.err.find(tp.authority()), std::string::npos) << "the debug log names the proxy: " << r.err;
  expect_no_password(r, dir.path() / "out", proxy_password);
}

TEST(CliProxy, WrongProxyCredentialsFailNamingTheProxyNotThePassword) {
  mock::server srv(small_server(3));
  tinyproxy tp({.basic_auth = std::pair<std::string, std::string>{proxy_user, proxy_password}});
  temp_dir dir;
  std::string const wrong = "Wrong-Cli-Pw.zz_7";
  auto const r = run(export_all(srv, dir, {"--log-level", "debug"}),
                     with_env(srv, {"HTTPS_PROXY=" + tp.url(std::string(proxy_user) + ":" + wrong)}));
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("proxy " + tp.authority()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HTTP proxy " + tp.authority() + " refused the tunnel"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("VELT_API_KEY"), std::string::npos) << "not the API's credentials: " << r.err;
  auto const report = report_of(dir.path() / "out");
  ASSERT_TRUE(report.contains("error")) << boost::json::serialize(report);
  EXPECT_EQ(report.at("error").at("proxy"), boost::json::value(tp.authority()));
  EXPECT_EQ(srv.stats().requests, 0u) << "nothing reached the origin";
  expect_no_password(r, dir.path() / "out", wrong);
  expect_no_password(r, dir.path() / "out", proxy_password);
}

TEST(CliProxy, NoProxyVariableBypassesTheProxy) {
  mock::server srv(small_server(3));
  tinyproxy tp;
  temp_dir dir;
  auto const r = run(export_all(srv, dir),
                     with_env(srv, {"https_proxy=" + tp.url(), "NO_PROXY=localhost,127.0.0.1"}));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir.path() / "out", srv.user_ids());
  EXPECT_EQ(tp.connects(), 0u) << tp.log();
}

TEST(CliProxy, EraseAndEraseStatusGoThroughTheProxy) {
  mock::server srv(small_server(3));
  tinyproxy tp;
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--user", srv.user_ids()[0], "--wait", "--poll-interval", "0.05",
                                            "--proxy", tp.url()}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const connects = tp.connects();
  EXPECT_GE(connects, 1u) << tp.log();
  auto const first = boost::json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  ASSERT_EQ(first.at("event"), "queued") << r.out;
  std::string const job(first.at("jobId").as_string());
  auto const status = run({VELT_GDPR_BINARY, "erase-status", "--base-url", srv.url(), "--ca-file",
                           srv.ca_file().string(), "--proxy", tp.url(), job},
                          credentials_env(srv));
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_GT(tp.connects(), connects) << tp.log();
}

TEST(CliProxyOptions, NoProxyFlagIgnoresTheEnvironment) {
  mock::server srv(small_server(2));
  temp_dir dir;
  auto const r = run(export_all(srv, dir, {"--no-proxy"}),
                     with_env(srv, {std::string("HTTPS_PROXY=") + dead_proxy, std::string("https_proxy=") + dead_proxy}));
  ASSERT_EQ(r.code, 0) << r.err;
  expect_exact_export(srv, dir.path() / "out", srv.user_ids());
}

TEST(CliProxyOptions, DeadProxyFromTheEnvironmentIsNamedInTheFailure) {
  mock::server srv(small_server(1));
  temp_dir dir;
  auto const r = run(export_all(srv, dir, {"--max-attempts", "1", "--max-stall", "2s"}),
                     with_env(srv, {std::string("HTTPS_PROXY=") + dead_proxy}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("proxy 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(CliProxyOptions, PasswordOnTheCommandLineIsRefusedWithoutEchoingIt) {
  mock::server srv(small_server(1));
  temp_dir dir;
  for (auto const& cmd : {export_all(srv, dir, {"--proxy", "http://u:Argv-Pw-1234@127.0.0.1:3128"}),
                          erase_command(srv, dir, {"--user", "x", "--proxy", "u:Argv-Pw-1234@proxy.example:3128"})}) {
    auto const r = run(cmd, credentials_env(srv));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("--proxy"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("HTTPS_PROXY"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Argv-Pw-1234"), std::string::npos) << r.err;
  }
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(CliProxyOptions, BadProxyUrlsAreUsageErrors) {
  mock::server srv(small_server(1));
  temp_dir dir;
  for (std::vector<std::string> extra : {std::vector<std::string>{"--proxy", "https://127.0.0.1:3128"},
                                         {"--proxy", "socks5://127.0.0.1:1080"},
                                         {"--proxy", "http://127.0.0.1:3128/path"},
                                         {"--proxy", "http://127.0.0.1:99999"},
                                         {"--proxy", tinyproxy_binary, "--no-proxy"}}) {
    auto const r = run(export_all(srv, dir, extra), credentials_env(srv));
    EXPECT_EQ(r.code, 2) << extra[1] << ": " << r.err;
    EXPECT_NE(r.err.find("proxy"), std::string::npos) << r.err;
  }
  // A bad URL in the environment is refused too, naming the variable.
  auto const r = run(export_all(srv, dir), with_env(srv, {"HTTPS_PROXY=ftp://u:Env-Pw-77@h"}));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("HTTPS_PROXY"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Env-Pw-77"), std::string::npos) << r.err;
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(CliProxyOptions, DemoIgnoresTheEnvironmentsProxy) {
  temp_dir dir;
  auto const r = run({VELT_GDPR_BINARY, "demo", "--users", "3", "--out", (dir.path() / "demo").string(), "--progress",
                      "never"},
                     {std::string("HTTPS_PROXY=") + dead_proxy, std::string("https_proxy=") + dead_proxy});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
}

}  // namespace
}  // namespace velt::test::cli
