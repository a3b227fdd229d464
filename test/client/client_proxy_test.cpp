// SPDX-License-Identifier: BSL-1.0
// HTTPS through a real HTTP proxy (tinyproxy, test/support/tinyproxy.hpp): a CONNECT tunnel
// to the local server, TLS to the origin inside it; credentials; refusals (407, 403, 5xx)
// as typed errors naming the proxy and never its password; a proxy that is down; NO_PROXY;
// the environment. Suite ClientProxy: registered with ctest (label "proxy") only when
// /usr/bin/tinyproxy is installed. Suite ClientProxyWire: what goes over the wire to a
// hand-made proxy (the CONNECT, credentials, answers tinyproxy does not give); always runs.
#include "support.hpp"

#include "../support/raw_http_server.hpp"
#include "../support/tinyproxy.hpp"

#include <boost/asio/as_tuple.hpp>

#include <stdlib.h>

#include <mutex>
#include <thread>
#include <vector>

namespace velt::test {
namespace {
namespace asio = boost::asio;

constexpr char const* proxy_user = "velt-user";
constexpr char const* proxy_password = "Proxy-Pw.s3cret_value";

std::string with_credentials(tinyproxy const& tp, std::string const& password = proxy_password) {
  return tp.url(std::string(proxy_user) + ":" + password);
}

/// The first page's failure of a client made with `o`, and the client's log lines.
struct failed_page {
  error_details error;
  std::string log;
};
failed_page first_page_failure(mock::server const& srv, client_options o) {
  failed_page out;
  auto lines = std::make_shared<std::string>();
  auto m = std::make_shared<std::mutex>();
  o.log = [lines, m](log_level, std::string_view line) {
    std::lock_guard lock(*m);
    lines->append(line).append("\n");
  };
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  page_stream s = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto [ec, page] = run(io, s.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_TRUE(ec);
  out.error = s.last_error();
  out.log = *lines;
  return out;
}

mock::server_options small(std::size_t users = 3) {
  mock::server_options so;
  so.data.users = users;
  so.data.max_items = 80;
  return so;
}

TEST(ClientProxy, ExportThroughTheTunnelMatchesTheServersData) {
  mock::server srv(small(4));
  tinyproxy tp;
  auto o = options_for(srv);
  o.proxy = tp.url();
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  for (auto const& user : srv.user_ids()) {
    auto got = run(io, stream_user(c, srv.organization_id(), user));
    EXPECT_TRUE(same_export(expected(srv, user), got.data)) << user;
    EXPECT_EQ(got.pages, srv.expected_pages(user)) << user;
  }
  auto const st = c.stats();
  EXPECT_GT(srv.stats().requests, 0u);
  EXPECT_EQ(st.connections_opened, 1u) << "one tunnel, kept alive";
  EXPECT_GT(st.connections_reused, 0u);
  EXPECT_EQ(tp.connects(), 1u) << tp.log();
  EXPECT_NE(tp.log().find("CONNECT 127.0.0.1:" + std::to_string(srv.port())), std::string::npos) << tp.log();
}

TEST(ClientProxy, ConcurrentUsersShareAPoolOfTunnels) {
  mock::server srv(small(12));
  tinyproxy tp;
  auto o = options_for(srv);
  o.proxy = tp.url();
  o.max_connections = 4;
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const users = srv.user_ids();
  std::vector<streamed> got(users.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < users.size(); ++i) {
    asio::co_spawn(io, stream_user(c, srv.organization_id(), users[i]), [&, i](std::exception_ptr e, streamed s) {
      EXPECT_FALSE(e);
      got[i] = std::move(s);
      ++done;
    });
  }
  io.run_for(60s);
  ASSERT_EQ(done, users.size());
  for (std::size_t i = 0; i < users.size(); ++i)
    EXPECT_TRUE(same_export(expected(srv, users[i]), got[i].data)) << users[i];
  auto const st = c.stats();
  EXPECT_LE(st.connections_opened, 4u);
  EXPECT_EQ(tp.connects(), st.connections_opened) << "one tunnel per connection";
  EXPECT_EQ(st.tls_handshakes_full + st.tls_handshakes_resumed, st.connections_opened);
  EXPECT_EQ(srv.stats().handshakes_resumed, st.tls_handshakes_resumed);
  EXPECT_GT(st.connections_reused, 0u);
}

TEST(ClientProxy, PlainHttpBaseUrlIsTunnelledToo) {
  auto so = small(1);
  so.tls = false;
  mock::server srv(so);
  tinyproxy tp;
  auto o = options_for(srv);
  o.allow_plain_http = true;
  o.ca_file.clear();
  o.proxy = tp.url();
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
  EXPECT_EQ(tp.connects(), 1u) << tp.log();
}

TEST(ClientProxy, RightCredentialsPass) {
  mock::server srv(small(1));
  tinyproxy tp({.basic_auth = std::pair<std::string, std::string>{proxy_user, proxy_password}});
  auto o = options_for(srv);
  o.proxy = with_credentials(tp);
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
}

TEST(ClientProxy, WrongOrMissingCredentialsAreATyped407NamingTheProxy) {
  mock::server srv(small(1));
  tinyproxy tp({.basic_auth = std::pair<std::string, std::string>{proxy_user, proxy_password}});
  std::string const wrong = "Wrong-Pw.not_this_one";
  for (std::string const& url : {with_credentials(tp, wrong), tp.url()}) {
    auto o = options_for(srv);
    o.proxy = url;
    auto const f = first_page_failure(srv, o);
    auto const& e = f.error;
    EXPECT_EQ(e.code, make_error_code(errc::proxy_auth_required)) << e.to_string();
    EXPECT_EQ(e.status, status::unauthenticated);
    EXPECT_EQ(e.proxy, tp.authority());
    EXPECT_EQ(e.http_status, 0u);
    EXPECT_EQ(e.attempts, 1u) << "a 407 is not retried";
    EXPECT_EQ(e.delivery, delivery::not_sent);
    EXPECT_FALSE(may_have_taken_effect(e));
    std::string const text = e.to_string();
    EXPECT_NE(text.find("proxy " + tp.authority()), std::string::npos) << text;
    // 407 without credentials; tinyproxy answers wrong ones with 401.
    EXPECT_TRUE(text.find("HTTP 407") != std::string::npos || text.find("HTTP 401") != std::string::npos) << text;
    EXPECT_EQ(text.find(wrong), std::string::npos) << text;
    EXPECT_EQ(text.find(proxy_password), std::string::npos) << text;
    EXPECT_EQ(f.log.find(wrong), std::string::npos) << f.log;
    EXPECT_EQ(f.log.find("Wrong-Pw"), std::string::npos) << f.log;
  }
  EXPECT_EQ(srv.stats().requests, 0u) << "nothing reached the origin";
}

TEST(ClientProxy, ConnectPortRuleIsATyped403) {
  mock::server srv(small(1));
  tinyproxy tp({.connect_ports = {443}});  // not the server's port
  auto o = options_for(srv);
  o.proxy = tp.url();
  auto const e = first_page_failure(srv, o).error;
  EXPECT_EQ(e.code, make_error_code(errc::proxy_refused)) << e.to_string();
  EXPECT_EQ(e.status, status::permission_denied);
  EXPECT_EQ(e.proxy, tp.authority());
  EXPECT_EQ(e.attempts, 1u);
  EXPECT_NE(e.message.find("403"), std::string::npos) << e.message;
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(ClientProxy, UnreachableOriginBehindTheProxyIsRetriedAsUnavailable) {
  std::uint16_t closed_port = 0;
  {
    mock::server gone(small(1));
    closed_port = gone.port();
  }
  tinyproxy tp;
  mock::server srv(small(1));
  auto o = options_for(srv);
  o.base_url = "https://127.0.0.1:" + std::to_string(closed_port);
  o.proxy = tp.url();
  o.retry.max_attempts = 2;
  auto const e = first_page_failure(srv, o).error;
  EXPECT_EQ(e.code, make_error_code(errc::proxy_unavailable)) << e.to_string();
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.attempts, 2u) << "a proxy's 5xx is retried";
  EXPECT_EQ(e.proxy, tp.authority());
}

TEST(ClientProxy, ProxyDownIsAConnectErrorNamingTheProxy) {
  mock::server srv(small(1));
  std::uint16_t port = 0;
  {
    tinyproxy tp;
    port = tp.port();
  }
  auto o = options_for(srv);
  o.proxy = "http://" + std::string(proxy_user) + ":" + proxy_password + "@127.0.0.1:" + std::to_string(port);
  o.retry.max_attempts = 2;
  auto const f = first_page_failure(srv, o);
  auto const& e = f.error;
  std::string const authority = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(e.status, status::unavailable) << e.to_string();
  EXPECT_EQ(e.proxy, authority);
  EXPECT_NE(e.message.find("connect to proxy " + authority), std::string::npos) << e.message;
  EXPECT_EQ(e.to_string().find(proxy_password), std::string::npos);
  EXPECT_EQ(f.log.find(proxy_password), std::string::npos) << f.log;
  EXPECT_EQ(e.attempts, 2u) << "an unreachable proxy is retried like an unreachable origin";
}

TEST(ClientProxy, NoProxyOptionBypassesTheProxy) {
  mock::server srv(small(1));
  tinyproxy tp;
  auto o = options_for(srv);
  o.proxy = tp.url();
  o.no_proxy = "example.com, 127.0.0.0/8";
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
  EXPECT_EQ(tp.connects(), 0u) << tp.log();
}

/// Sets environment variables for the scope of a test, restoring them after (the tests of
/// this suite run one per process under ctest; no thread reads the environment meanwhile).
class scoped_env {
 public:
  explicit scoped_env(std::vector<std::pair<std::string, std::string>> vars) {
    for (auto& [name, value] : vars) {
      char const* old = ::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~scoped_env() {
    for (auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ClientProxy, EnvironmentIsReadWhenTheOptionIsNotSet) {
  mock::server srv(small(1));
  tinyproxy tp({.basic_auth = std::pair<std::string, std::string>{proxy_user, proxy_password}});
  auto const user = srv.user_ids()[0];
  {
    // Lower case first, as curl: the upper-case one points nowhere.
    scoped_env env({{"https_proxy", with_credentials(tp)}, {"HTTPS_PROXY", "http://127.0.0.1:1"},
                    {"no_proxy", ""}, {"NO_PROXY", ""}});
    auto o = options_for(srv);
    o.proxy.reset();
    asio::io_context io;
    velt::client c(io.get_executor(), o);
    EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
    EXPECT_EQ(tp.connects(), 1u) << tp.log();
  }
  {
    scoped_env env({{"https_proxy", with_credentials(tp)}, {"NO_PROXY", "127.0.0.1"}, {"no_proxy", ""}});
    auto o = options_for(srv);
    o.proxy.reset();
    asio::io_context io;
    velt::client c(io.get_executor(), o);
    EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
    EXPECT_EQ(tp.connects(), 1u) << "NO_PROXY lists the origin: " << tp.log();
  }
}

TEST(ClientProxy, BadProxyUrlIsRefusedWhenTheClientIsMade) {
  mock::server srv(small(1));
  auto o = options_for(srv);
  o.proxy = "https://user:Never-Shown-Pw@127.0.0.1:3128";
  asio::io_context io;
  try {
    velt::client c(io.get_executor(), o);
    ADD_FAILURE() << "an https:// proxy was accepted";
  } catch (velt::error const& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_request));
    std::string const what = e.what();
    EXPECT_NE(what.find("proxy"), std::string::npos) << what;
    EXPECT_EQ(what.find("Never-Shown-Pw"), std::string::npos) << what;
  }
}

// ClientProxyWire: a hand-made proxy (test/support/raw_http_server.hpp) that answers the
// CONNECT with chosen bytes; needs no tinyproxy, always registered.

TEST(ClientProxyWire, ConnectCarriesTheDecodedCredentialsAndARefusalIsNotRetried) {
  raw_http_server fake(
      [](raw_request const&) {
        return std::string("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
                           "Content-Length: 5000\r\n\r\n") + std::string(5000, 'x');
      },
      raw_http_server_options{.keep_requests = true});
  mock::server srv(small(1));
  auto o = options_for(srv);
  o.proxy = "http://us%40er:p%3Ass%20Word@127.0.0.1:" + std::to_string(fake.port());
  auto const e = first_page_failure(srv, o).error;
  EXPECT_EQ(e.code, make_error_code(errc::proxy_auth_required)) << e.to_string();
  EXPECT_EQ(e.attempts, 1u);
  auto const got = fake.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].head.rfind("CONNECT 127.0.0.1:" + std::to_string(srv.port()) + " HTTP/1.1\r\n", 0), 0u) << got[0].head;
  EXPECT_EQ(got[0].header("Host"), "127.0.0.1:" + std::to_string(srv.port()));
  EXPECT_EQ(got[0].header("Proxy-Authorization"), "Basic dXNAZXI6cDpzcyBXb3Jk");  // "us@er:p:ss Word"
  EXPECT_EQ(got[0].header("x-velt-api-key"), "") << "the API's secrets never go to the proxy";
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(ClientProxyWire, BytesAfterTheConnectAnswerAreAProtocolError) {
  raw_http_server fake([](raw_request const&) {
    return std::string("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
  });
  mock::server srv(small(1));
  auto o = options_for(srv);
  o.proxy = fake.url();
  auto const e = first_page_failure(srv, o).error;
  EXPECT_EQ(e.code, make_error_code(errc::proxy_refused)) << e.to_string();
  EXPECT_NE(e.message.find("unexpected bytes after its answer to CONNECT"), std::string::npos) << e.message;
  EXPECT_EQ(e.proxy, "127.0.0.1:" + std::to_string(fake.port()));
  EXPECT_EQ(e.delivery, delivery::not_sent);
}

TEST(ClientProxyWire, BadGatewayFromTheProxyIsRetried) {
  raw_http_server fake([](raw_request const&) {
    return std::string("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>down</html>");
  });
  mock::server srv(small(1));
  auto o = options_for(srv);
  o.proxy = fake.url();
  o.retry.max_attempts = 3;
  auto const e = first_page_failure(srv, o).error;
  EXPECT_EQ(e.code, make_error_code(errc::proxy_unavailable)) << e.to_string();
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.attempts, 3u);
  EXPECT_EQ(fake.requests(), 3u);
  EXPECT_NE(e.message.find("HTTP 502 Bad Gateway"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace velt::test
