// SPDX-License-Identifier: BSL-1.0
// Sans-I/O rules of HTTPS through an HTTP proxy (a CONNECT tunnel): which proxy an origin
// uses (client_options, else the environment as curl reads it), NO_PROXY matching, the
// proxy URL and its credentials, the CONNECT request, and what the proxy's answer means.
// The I/O is connection.cpp's; nothing here touches a socket or the process environment
// (the environment comes in as a function).
#pragma once

#include "client/origin.hpp"

#include <velt/client_options.hpp>
#include <velt/error.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace velt::detail {

/// An HTTP proxy, parsed from `http://[user[:password]@]host[:port][/]`.
struct proxy_endpoint {
  std::string host;          ///< for DNS / connect: no brackets around IPv6 literals
  std::uint16_t port = 1080; ///< curl's default when the URL names none
  /// "host:port" (IPv6 in brackets) for messages and logs: never the credentials.
  std::string authority;
  /// The value of Proxy-Authorization ("Basic base64(user:password)", both percent-decoded);
  /// empty without credentials. A secret.
  std::string authorization;
  /// The decoded password (for masking it in text a proxy sends back); empty when none.
  std::string password;
};

/// How the connections of a pool reach their origin through a proxy.
struct proxy_route {
  proxy_endpoint proxy;
  std::string connect_request;  ///< `connect_request(origin, proxy, user agent)`: a secret
};

/// The default port of a proxy URL without one (curl's).
inline constexpr std::uint16_t default_proxy_port = 1080;

/// Parses a proxy URL. A URL without a scheme is taken as http:// (as curl does). Refused
/// (errc::invalid_request, the message naming `field` and never quoting the URL, which may
/// hold a password): other schemes (https:// proxies and SOCKS are not supported), no host,
/// a bad port, a path other than "/", a query or a fragment, CR/LF/control bytes.
std::optional<error_details> parse_proxy_url(std::string_view url, std::string_view field,
                                             proxy_endpoint& out);

/// Whether `host` (an origin host: a name, or an IP literal without brackets) is excluded
/// from proxying by a NO_PROXY list: entries separated by commas and/or white space, `*`
/// alone matches every host; a name matches itself and its subdomains, with or without a
/// leading dot (`example.com` and `.example.com` both match `example.com` and
/// `api.example.com`, not `badexample.com`); an IP address matches that address, a CIDR
/// block (`10.0.0.0/8`, `fd00::/8`) the addresses in it; IPv6 entries may be bracketed; a
/// `:port` after an entry is ignored. Case-insensitive; a trailing dot on either side is
/// ignored.
bool no_proxy_matches(std::string_view list, std::string_view host);

/// Reads an environment variable: the value, or nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(char const* name)>;
/// `::getenv`.
env_lookup process_environment();

/// Where the proxy setting of a client came from, for its messages.
struct proxy_choice {
  std::optional<proxy_endpoint> proxy;  ///< none: connect directly
  std::string source;                   ///< "proxy" (the option) or the variable's name
};

/// Decides the proxy of `o` for `target`:
/// - `o.proxy` set: that URL; empty: none. Not set: for an https:// origin, `https_proxy`,
///   else `HTTPS_PROXY` (curl's order: lower case first); an empty variable counts as unset.
///   A plain http:// origin takes no proxy from the environment (only from `o.proxy`).
/// - then, a proxy is dropped when `target.host` matches the NO_PROXY list: `o.no_proxy`
///   when set, else `no_proxy`, else `NO_PROXY`.
/// Refuses a malformed URL (naming the option or the variable).
std::optional<error_details> choose_proxy(client_options const& o, origin const& target,
                                          env_lookup const& env, proxy_choice& out);

/// The CONNECT request of a tunnel to `target` (origin form "host:port", IPv6 in brackets),
/// with Host and, when the proxy has credentials, Proxy-Authorization.
std::string connect_request(origin const& target, proxy_endpoint const& proxy,
                            std::string_view user_agent);

/// The failure for a proxy's non-2xx answer `status` (with `reason`, the reason phrase it
/// sent, shortened and stripped of control bytes and of the proxy's password) to the
/// CONNECT for `target`: 407 (or 401, as tinyproxy answers wrong credentials)
/// errc::proxy_auth_required; 5xx errc::proxy_unavailable
/// (retried: the proxy could not reach the origin, or is overloaded); anything else
/// errc::proxy_refused. `http_status` stays 0 (the origin did not answer); `proxy` is set.
error_details proxy_refusal(unsigned status, std::string_view reason, proxy_endpoint const& proxy,
                            origin const& target);

}  // namespace velt::detail
