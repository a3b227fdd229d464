// SPDX-License-Identifier: BSL-1.0
#include "client/origin.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace velt::detail {
namespace {
std::optional<error_details> refuse(std::string message, errc code = errc::invalid_request) {
  return make_error_details(make_error_code(code), std::move(message));
}
}  // namespace

std::optional<error_details> parse_origin(std::string_view base_url, bool allow_plain_http,
                                          origin& out) {
  auto parsed = boost::urls::parse_absolute_uri(base_url);
  if (!parsed) return refuse("base_url is not an absolute URL");
  boost::urls::url_view const u = *parsed;

  origin o;
  if (u.scheme_id() == boost::urls::scheme::https) {
    o.tls = true;
    o.port = 443;
  } else if (u.scheme_id() == boost::urls::scheme::http) {
    if (!allow_plain_http)
      return refuse("base_url uses http://; set allow_plain_http to permit unencrypted HTTP",
                    errc::plain_http_refused);
    o.tls = false;
    o.port = 80;
  } else {
    return refuse("base_url must use https:// (or http:// with allow_plain_http)");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return refuse("base_url has no host");
  if (u.has_userinfo()) return refuse("base_url must not contain user info");
  if (!(u.encoded_path().empty() || u.encoded_path() == "/"))
    return refuse("base_url must not contain a path");
  if (u.has_query() || u.has_fragment())
    return refuse("base_url must not contain a query or fragment");

  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      o.host_is_ip = true;
      o.host = u.host_address();
      break;
    case boost::urls::host_type::name: {
      o.host = u.host_address();
      for (char c : o.host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) return refuse("base_url has an invalid host name");
      }
      break;
    }
    default:
      return refuse("base_url has an unsupported host");
  }
  if (u.has_port()) {
    auto const p = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0 ||
        value > 65535)
      return refuse("base_url has an invalid port");
    o.port = static_cast<std::uint16_t>(value);
  }
  // Appended piece by piece: g++ 12 -O3 reports a false -Wrestrict on "[" + host + "]".
  if (u.host_type() == boost::urls::host_type::ipv6) {
    o.host_header.append(1, '[').append(o.host).append(1, ']');
  } else {
    o.host_header = o.host;
  }
  if (o.port != (o.tls ? 443 : 80)) o.host_header.append(1, ':').append(std::to_string(o.port));
  out = std::move(o);
  return std::nullopt;
}

std::optional<error_details> validate_header_value(std::string_view field,
                                                   std::string_view value) {
  if (value.empty()) return refuse(std::string(field) + " is empty");
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0')
      return refuse(std::string(field) + " contains CR, LF or NUL");
    if (c < 0x20 || c == 0x7f) return refuse(std::string(field) + " contains a control byte");
  }
  return std::nullopt;
}

}  // namespace velt::detail
