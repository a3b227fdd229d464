// SPDX-License-Identifier: BSL-1.0
// The origin (scheme, host, port) requests go to, parsed and validated from a base URL.
#pragma once

#include <velt/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace velt::detail {

struct origin {
  bool tls = true;
  std::string host;         ///< for DNS / connect: no brackets around IPv6 literals
  std::uint16_t port = 443;
  std::string host_header;  ///< for the Host header: brackets, port when not the default
  bool host_is_ip = false;  ///< IP literals get no SNI and are verified as iPAddress SANs
};

/// Parses `scheme://host[:port][/]`. Refuses (errc::invalid_request naming `base_url`):
/// other schemes, a missing host, user info, a path other than "/", a query or fragment,
/// and http:// unless `allow_plain_http` (errc::plain_http_refused).
std::optional<error_details> parse_origin(std::string_view base_url, bool allow_plain_http,
                                          origin& out);

/// Refuses an empty value or one with CR, LF, NUL or other control bytes, naming `field`.
/// The value itself never appears in the message.
std::optional<error_details> validate_header_value(std::string_view field,
                                                   std::string_view value);

}  // namespace velt::detail
