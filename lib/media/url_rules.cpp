// SPDX-License-Identifier: BSL-1.0
// Which media URLs may be fetched (check_url) and how a URL appears in a log (redact).
#include <velt/media.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>
#include <cstdint>

namespace velt::media {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

/// 1..65535, all digits; else nullopt.
std::optional<std::uint16_t> parse_port(std::string_view p) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

/// An allowed-host entry: `host`, `host:port`, `*.domain[:port]`, `[v6]`, `[v6]:port`.
struct host_entry {
  std::string host;  ///< lower case; for a wildcard, the suffix with its leading dot
  std::uint16_t port = 443;
  bool wildcard = false;
};

std::optional<host_entry> parse_entry(std::string_view e) {
  host_entry out;
  std::string_view host = e, port;
  if (!e.empty() && e.front() == '[') {
    auto const close = e.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = e.substr(0, close + 1);
    std::string_view const rest = e.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (auto const colon = e.rfind(':'); colon != std::string_view::npos) {
    host = e.substr(0, colon);
    port = e.substr(colon + 1);
    if (port.empty()) return std::nullopt;
  }
  if (!port.empty()) {
    auto const p = parse_port(port);
    if (!p) return std::nullopt;
    out.port = *p;
  }
  if (host.starts_with("*.")) {
    out.wildcard = true;
    host.remove_prefix(1);  // keep the dot: ".example.com"
    if (host.size() < 2) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  out.host = lowered(host);
  return out;
}

bool matches(host_entry const& e, std::string_view host, std::uint16_t port) {
  if (e.port != port) return false;
  if (!e.wildcard) return host == e.host;
  // At least one non-empty label before the suffix: "a.example.com", not ".example.com".
  return host.size() > e.host.size() && host.ends_with(e.host) && host[host.size() - e.host.size() - 1] != '.';
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

}  // namespace

std::optional<std::string> check_url(std::string_view url, std::span<std::string const> allowed_hosts) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "not a URL";
  boost::urls::url_view const u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::https) return "not https";
  if (!u.has_authority() || u.encoded_host().empty()) return "not a URL";
  if (u.has_userinfo()) return "user information in URL";

  std::string host;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      host = lowered(u.encoded_host());  // "[::1]" keeps its brackets, as entries write it
      break;
    case boost::urls::host_type::name: {
      std::string_view const h = u.encoded_host();
      if (h.find('%') != std::string_view::npos) return "percent-encoded host";
      for (char c : h) {
        if (!is_name_char(c)) return "not a URL";
      }
      host = lowered(h);
      break;
    }
    default:
      return "not a URL";
  }
  std::uint16_t port = 443;
  if (u.has_port() && !u.port().empty()) {
    auto const p = parse_port(u.port());
    if (!p) return "not a URL";
    port = *p;
  }
  for (auto const& entry : allowed_hosts) {
    auto const e = parse_entry(entry);
    if (e && matches(*e, host, port)) return std::nullopt;
  }
  std::string reason = "host not allowed: " + host;
  if (port != 443) reason.append(1, ':').append(std::to_string(port));
  return reason;
}

std::string redact(std::string_view url) {
  std::size_t const cut = url.find_first_of("?#");
  bool const had_tail = cut != std::string_view::npos;
  std::string_view kept = url.substr(0, cut);

  // User information: between "//" of the authority and the last '@' before the path.
  std::string base;
  if (auto const slashes = kept.find("//"); slashes != std::string_view::npos) {
    std::size_t const authority = slashes + 2;
    std::size_t const path = kept.find('/', authority);
    std::string_view const auth = kept.substr(authority, path == std::string_view::npos ? kept.npos : path - authority);
    if (auto const at = auth.rfind('@'); at != std::string_view::npos) {
      base.append(kept.substr(0, authority)).append(kept.substr(authority + at + 1));
    } else {
      base.append(kept);
    }
  } else {
    base.append(kept);
  }
  if (had_tail) base.append("?<redacted>");

  std::string out;
  out.reserve(base.size());
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : base) {
    auto const b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f) {
      out.push_back('%');
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace velt::media
