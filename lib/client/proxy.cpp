// SPDX-License-Identifier: BSL-1.0
#include "client/proxy.hpp"
#include "client/redaction.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace velt::detail {
namespace {

std::optional<error_details> refuse(std::string message) {
  return make_error_details(make_error_code(errc::invalid_request), std::move(message));
}

std::string base64(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned const v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
  }
  if (std::size_t const rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_dot(std::string_view s) {
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// One NO_PROXY entry against the host (both lower case, no trailing dot).
bool entry_matches(std::string_view entry, std::string_view host,
                   std::optional<boost::asio::ip::address> const& host_ip) {
  namespace ip = boost::asio::ip;
  if (entry == "*") return true;
  // "[v6]" or "[v6]:port"; "v4:port" or "name:port" (one colon: a port, not IPv6).
  if (!entry.empty() && entry.front() == '[') {
    auto const close = entry.find(']');
    if (close == std::string_view::npos) return false;
    entry = entry.substr(1, close - 1);
  } else if (auto colon = entry.find(':');
             colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    entry = entry.substr(0, colon);
  }
  if (entry.find('/') != std::string_view::npos) {  // CIDR
    if (!host_ip) return false;
    std::string const e(entry);
    boost::system::error_code ec;
    if (host_ip->is_v4()) {
      auto const net = ip::make_network_v4(e, ec);
      return !ec && ip::network_v4(host_ip->to_v4(), net.prefix_length()).network() == net.network();
    }
    auto const net = ip::make_network_v6(e, ec);
    return !ec && ip::network_v6(host_ip->to_v6(), net.prefix_length()).network() == net.network();
  }
  boost::system::error_code ec;
  auto const entry_ip = ip::make_address(std::string(entry), ec);
  if (!ec) return host_ip && *host_ip == entry_ip;
  if (host_ip) return false;  // a name never matches an IP literal
  if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
  entry = trim_dot(entry);
  if (entry.empty()) return false;
  if (host == entry) return true;
  return host.size() > entry.size() && host.substr(host.size() - entry.size()) == entry &&
         host[host.size() - entry.size() - 1] == '.';
}

}  // namespace

std::optional<error_details> parse_proxy_url(std::string_view url, std::string_view field,
                                             proxy_endpoint& out) {
  std::string const name(field);
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7f || c == ' ') return refuse(name + " contains white space or a control byte");
  std::string with_scheme;
  if (url.find("://") == std::string_view::npos) {
    with_scheme = "http://";
    with_scheme += url;
    url = with_scheme;
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return refuse(name + " is not a valid proxy URL (http://[user:password@]host[:port])");
  boost::urls::url_view const u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::https)
    return refuse(name + ": https:// proxies (TLS to the proxy) are not supported; use http://");
  if (u.scheme_id() != boost::urls::scheme::http)
    return refuse(name + ": only http:// proxies are supported (no SOCKS)");
  if (!u.has_authority() || u.encoded_host().empty()) return refuse(name + " has no host");
  if (!(u.encoded_path().empty() || u.encoded_path() == "/"))
    return refuse(name + " must not contain a path");
  if (u.has_query() || u.has_fragment()) return refuse(name + " must not contain a query or fragment");

  proxy_endpoint p;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
    case boost::urls::host_type::name:
      p.host = u.host_address();
      break;
    default:
      return refuse(name + " has an unsupported host");
  }
  for (char c : p.host) {
    bool const ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '_';
    if (!ok) return refuse(name + " has an invalid host name");
  }
  if (u.has_port()) {
    auto const s = u.port();
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535)
      return refuse(name + " has an invalid port");
    p.port = static_cast<std::uint16_t>(v);
  }
  if (u.host_type() == boost::urls::host_type::ipv6)
    p.authority.append(1, '[').append(p.host).append(1, ']');
  else
    p.authority = p.host;
  p.authority.append(1, ':').append(std::to_string(p.port));
  if (u.has_userinfo()) {
    std::string const user(u.user());
    std::string const password(u.password());
    for (unsigned char c : user + password)
      if (c < 0x20 || c == 0x7f) return refuse(name + ": the credentials contain a control byte");
    if (user.find(':') != std::string::npos) return refuse(name + ": the user name contains ':'");
    p.authorization = "Basic " + base64(user + ":" + password);
    p.password = password;
  }
  out = std::move(p);
  return std::nullopt;
}

bool no_proxy_matches(std::string_view list, std::string_view host) {
  std::string const h = lower(trim_dot(host));
  boost::system::error_code ec;
  std::optional<boost::asio::ip::address> host_ip;
  if (auto a = boost::asio::ip::make_address(h, ec); !ec) host_ip = a;
  std::size_t pos = 0;
  while (pos < list.size()) {
    auto const end = list.find_first_of(", \t\r\n", pos);
    auto const entry = list.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!entry.empty() && entry_matches(lower(entry), h, host_ip)) return true;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

env_lookup process_environment() {
  return [](char const* name) -> std::optional<std::string> {
    if (char const* v = std::getenv(name)) return std::string(v);
    return std::nullopt;
  };
}

std::optional<error_details> choose_proxy(client_options const& o, origin const& target,
                                          env_lookup const& env, proxy_choice& out) {
  auto first_set = [&](char const* a, char const* b, std::string& from) -> std::optional<std::string> {
    for (char const* name : {a, b}) {
      if (auto v = env(name); v && !v->empty()) {
        from = name;
        return v;
      }
    }
    return std::nullopt;
  };
  proxy_choice c;
  std::optional<std::string> url;
  if (o.proxy) {
    c.source = "proxy";
    if (!o.proxy->empty()) url = *o.proxy;
  } else if (target.tls) {
    url = first_set("https_proxy", "HTTPS_PROXY", c.source);
  }
  if (!url) {
    out = std::move(c);
    return std::nullopt;
  }
  proxy_endpoint p;
  if (auto e = parse_proxy_url(*url, c.source, p)) return e;
  std::string list_source;
  std::optional<std::string> const list =
      o.no_proxy ? o.no_proxy : first_set("no_proxy", "NO_PROXY", list_source);
  if (!(list && no_proxy_matches(*list, target.host))) c.proxy = std::move(p);
  out = std::move(c);
  return std::nullopt;
}

std::string connect_request(origin const& target, proxy_endpoint const& proxy,
                            std::string_view user_agent) {
  std::string authority;
  if (target.host.find(':') != std::string::npos)
    authority.append(1, '[').append(target.host).append(1, ']');
  else
    authority = target.host;
  authority.append(1, ':').append(std::to_string(target.port));
  std::string r = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!user_agent.empty()) r.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!proxy.authorization.empty()) r.append("Proxy-Authorization: ").append(proxy.authorization).append("\r\n");
  r += "\r\n";
  return r;
}

error_details proxy_refusal(unsigned status, std::string_view reason, proxy_endpoint const& proxy,
                            origin const& target) {
  std::string why;
  for (char c : reason.substr(0, 80))
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) why += c;
  redact(why, proxy.password);
  // 407 is the standard answer; some proxies (tinyproxy, to wrong credentials) say 401.
  bool const auth = status == 407 || status == 401;
  errc const code = auth ? errc::proxy_auth_required
                    : status >= 500 && status < 600 ? errc::proxy_unavailable
                                                    : errc::proxy_refused;
  std::string message = "proxy " + proxy.authority + " refused the tunnel to " + target.host_header +
                        ": HTTP " + std::to_string(status);
  if (!why.empty()) message += " " + why;
  if (auth)
    message += proxy.authorization.empty() ? " (no proxy credentials were given)"
                                           : " (the proxy credentials were not accepted)";
  auto d = make_error_details(make_error_code(code), std::move(message));
  d.proxy = proxy.authority;
  return d;
}

}  // namespace velt::detail
