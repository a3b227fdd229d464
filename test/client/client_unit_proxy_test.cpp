// SPDX-License-Identifier: BSL-1.0
// The sans-I/O rules of proxying (lib/client/proxy.hpp): proxy URLs and their credentials,
// NO_PROXY matching, the choice between option and environment, the CONNECT request, and
// what a refusal means. No socket, no process environment.
#include "client/proxy.hpp"

#include <gtest/gtest.h>

#include <map>

namespace velt::test {
namespace {
using detail::choose_proxy;
using detail::no_proxy_matches;
using detail::parse_proxy_url;
using detail::proxy_choice;
using detail::proxy_endpoint;

detail::origin origin_of(std::string const& url) {
  detail::origin o;
  EXPECT_FALSE(detail::parse_origin(url, true, o));
  return o;
}

detail::env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](char const* name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    return std::nullopt;
  };
}

TEST(ClientUnitProxy, ParsesUrlsWithDefaultsAndCredentials) {
  proxy_endpoint p;
  ASSERT_FALSE(parse_proxy_url("http://proxy.example:3128", "proxy", p));
  EXPECT_EQ(p.host, "proxy.example");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(p.authority, "proxy.example:3128");
  EXPECT_TRUE(p.authorization.empty());

  ASSERT_FALSE(parse_proxy_url("proxy.example", "HTTPS_PROXY", p));  // no scheme: http://
  EXPECT_EQ(p.port, detail::default_proxy_port);
  EXPECT_EQ(p.authority, "proxy.example:1080");

  ASSERT_FALSE(parse_proxy_url("http://[::1]:8080/", "proxy", p));
  EXPECT_EQ(p.host, "::1");
  EXPECT_EQ(p.authority, "[::1]:8080");

  // Percent-decoded user and password; RFC 7617's example.
  ASSERT_FALSE(parse_proxy_url("http://Aladdin:open%20sesame@10.0.0.1:3128", "proxy", p));
  EXPECT_EQ(p.authorization, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(p.password, "open sesame");
  EXPECT_EQ(p.authority, "10.0.0.1:3128");
  ASSERT_FALSE(parse_proxy_url("http://u%40corp:p%3Aw@h:1", "proxy", p));
  EXPECT_EQ(p.authorization, "Basic dUBjb3JwOnA6dw==");  // "u@corp:p:w"
}

TEST(ClientUnitProxy, RefusesBadUrlsNamingTheFieldNeverThePassword) {
  for (std::string url : {"https://u:hunter2secret@proxy:443", "socks5://u:hunter2secret@proxy:1080",
                          "http://u:hunter2secret@proxy:0", "http://u:hunter2secret@proxy:99999",
                          "http://u:hunter2secret@proxy:3128/path", "http://u:hunter2secret@proxy:3128?q",
                          "http://u:hunter2secret@:3128", "http://u:hunter2secret@proxy:3128\r\nX: y"}) {
    proxy_endpoint p;
    auto e = parse_proxy_url(url, "HTTPS_PROXY", p);
    ASSERT_TRUE(e) << url;
    EXPECT_EQ(e->code, make_error_code(errc::invalid_request));
    EXPECT_NE(e->message.find("HTTPS_PROXY"), std::string::npos) << e->message;
    EXPECT_EQ(e->message.find("hunter2"), std::string::npos) << e->message;
  }
  proxy_endpoint p;
  auto https = parse_proxy_url("https://proxy:443", "proxy", p);
  ASSERT_TRUE(https);
  EXPECT_NE(https->message.find("https:// proxies"), std::string::npos) << https->message;
}

TEST(ClientUnitProxy, NoProxyFollowsCurlsRules) {
  EXPECT_TRUE(no_proxy_matches("*", "api.velt.dev"));
  EXPECT_TRUE(no_proxy_matches("velt.dev", "api.velt.dev"));
  EXPECT_TRUE(no_proxy_matches(".velt.dev", "api.velt.dev"));
  EXPECT_TRUE(no_proxy_matches(".velt.dev", "velt.dev"));
  EXPECT_TRUE(no_proxy_matches("velt.dev", "velt.dev"));
  EXPECT_FALSE(no_proxy_matches("velt.dev", "notvelt.dev"));
  EXPECT_FALSE(no_proxy_matches("api.velt.dev", "velt.dev"));
  EXPECT_TRUE(no_proxy_matches("VELT.DEV.", "Api.Velt.Dev"));    // case, trailing dot
  EXPECT_TRUE(no_proxy_matches("a.example, b.example  velt.dev", "api.velt.dev"));  // separators
  EXPECT_TRUE(no_proxy_matches("velt.dev:443", "api.velt.dev"));  // port ignored
  EXPECT_FALSE(no_proxy_matches("", "api.velt.dev"));
  EXPECT_FALSE(no_proxy_matches(" , ", "api.velt.dev"));
  // IP addresses: exact, CIDR, IPv6 (bracketed or not); names never match IPs.
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.20.30.40"));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1"));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd12::5"));
  EXPECT_FALSE(no_proxy_matches("fd00::/8", "fe80::1"));
  EXPECT_FALSE(no_proxy_matches("localhost", "127.0.0.1"));
  EXPECT_FALSE(no_proxy_matches("0.0.0.1", "localhost"));
}

TEST(ClientUnitProxy, ChoosesOptionThenEnvironmentLowerCaseFirst) {
  auto const https = origin_of("https://api.velt.dev");
  client_options o;
  proxy_choice c;
  // Not set: https_proxy wins over HTTPS_PROXY (curl), an empty one counts as unset.
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"https_proxy", "http://lower:1"}, {"HTTPS_PROXY", "http://upper:2"}}), c));
  ASSERT_TRUE(c.proxy);
  EXPECT_EQ(c.proxy->authority, "lower:1");
  EXPECT_EQ(c.source, "https_proxy");
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"https_proxy", ""}, {"HTTPS_PROXY", "http://upper:2"}}), c));
  ASSERT_TRUE(c.proxy);
  EXPECT_EQ(c.proxy->authority, "upper:2");
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"http_proxy", "http://plain:3"}, {"HTTP_PROXY", "http://p:4"}}), c));
  EXPECT_FALSE(c.proxy) << "http_proxy is for http:// URLs";
  // A plain http:// origin takes nothing from the environment.
  ASSERT_FALSE(choose_proxy(o, origin_of("http://127.0.0.1:8080"), env_of({{"https_proxy", "http://lower:1"}}), c));
  EXPECT_FALSE(c.proxy);
  // The option wins; empty means none.
  o.proxy = "http://option:5";
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"https_proxy", "http://lower:1"}}), c));
  ASSERT_TRUE(c.proxy);
  EXPECT_EQ(c.proxy->authority, "option:5");
  EXPECT_EQ(c.source, "proxy");
  o.proxy = "";
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"https_proxy", "http://lower:1"}}), c));
  EXPECT_FALSE(c.proxy);
  // A bad URL in the environment is refused naming the variable.
  o.proxy.reset();
  auto e = choose_proxy(o, https, env_of({{"HTTPS_PROXY", "ftp://x:pw-not-shown@h"}}), c);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("HTTPS_PROXY"), std::string::npos) << e->message;
  EXPECT_EQ(e->message.find("pw-not-shown"), std::string::npos) << e->message;
}

TEST(ClientUnitProxy, NoProxyOptionOverridesTheEnvironment) {
  auto const https = origin_of("https://api.velt.dev");
  client_options o;
  o.proxy = "http://proxy:3128";
  proxy_choice c;
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"no_proxy", "velt.dev"}, {"NO_PROXY", "other"}}), c));
  EXPECT_FALSE(c.proxy) << "no_proxy (lower case first) lists the origin";
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"NO_PROXY", ".velt.dev"}}), c));
  EXPECT_FALSE(c.proxy);
  o.no_proxy = "";  // set: the environment's list is not read
  ASSERT_FALSE(choose_proxy(o, https, env_of({{"no_proxy", "velt.dev"}}), c));
  EXPECT_TRUE(c.proxy);
  o.no_proxy = "*";
  ASSERT_FALSE(choose_proxy(o, https, env_of({}), c));
  EXPECT_FALSE(c.proxy);
}

TEST(ClientUnitProxy, ConnectRequestNamesTheOriginAndCarriesCredentials) {
  proxy_endpoint p;
  ASSERT_FALSE(parse_proxy_url("http://Aladdin:open%20sesame@proxy:3128", "proxy", p));
  EXPECT_EQ(detail::connect_request(origin_of("https://api.velt.dev"), p, "ua/1"),
            "CONNECT api.velt.dev:443 HTTP/1.1\r\nHost: api.velt.dev:443\r\nUser-Agent: ua/1\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
  ASSERT_FALSE(parse_proxy_url("http://proxy:3128", "proxy", p));
  EXPECT_EQ(detail::connect_request(origin_of("https://[::1]:8443"), p, ""),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
}

TEST(ClientUnitProxy, RefusalsAreTypedAndRetriedOnlyFor5xx) {
  proxy_endpoint p;
  ASSERT_FALSE(parse_proxy_url("http://user:Secret-Proxy-Pw@proxy:3128", "proxy", p));
  auto const target = origin_of("https://api.velt.dev");
  auto const auth = detail::proxy_refusal(407, "Proxy Authentication Required", p, target);
  EXPECT_EQ(auth.code, make_error_code(errc::proxy_auth_required));
  EXPECT_EQ(auth.status, status::unauthenticated);
  EXPECT_FALSE(is_retryable(auth.status));
  EXPECT_EQ(auth.proxy, "proxy:3128");
  EXPECT_EQ(auth.http_status, 0u) << "the origin did not answer";
  EXPECT_EQ(auth.delivery, delivery::not_sent);
  EXPECT_FALSE(may_have_taken_effect(auth));
  EXPECT_NE(auth.message.find("proxy proxy:3128"), std::string::npos) << auth.message;
  EXPECT_NE(auth.message.find("407"), std::string::npos) << auth.message;
  auto const denied = detail::proxy_refusal(403, "Access violation", p, target);
  EXPECT_EQ(denied.code, make_error_code(errc::proxy_refused));
  EXPECT_EQ(denied.status, status::permission_denied);
  EXPECT_FALSE(is_retryable(denied.status));
  for (unsigned s : {500u, 502u, 503u, 504u}) {
    auto const down = detail::proxy_refusal(s, "Bad Gateway", p, target);
    EXPECT_EQ(down.code, make_error_code(errc::proxy_unavailable));
    EXPECT_EQ(down.status, status::unavailable);
    EXPECT_TRUE(is_retryable(down.status));
    EXPECT_EQ(classify(down), failure_kind::transport) << "like an unreachable origin";
  }
  // A reason phrase that echoes the password (or control bytes) is cleaned.
  auto const echoed = detail::proxy_refusal(403, "denied for Secret-Proxy-Pw\r\nX", p, target);
  EXPECT_EQ(echoed.message.find("Secret-Proxy-Pw"), std::string::npos) << echoed.message;
  EXPECT_EQ(echoed.message.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace velt::test
