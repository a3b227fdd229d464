// SPDX-License-Identifier: BSL-1.0
#include "media/fetch_rules.hpp"

#include <velt/media.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace velt::media::detail {

response_action classify_status(unsigned status) noexcept {
  switch (status) {
    case 200: return response_action::accept;
    case 301:
    case 302:
    case 303:
    case 307:
    case 308: return response_action::redirect;
    case 408:
    case 429: return response_action::retry;
    default: return status >= 500 && status <= 599 ? response_action::retry : response_action::fail;
  }
}

redirect_decision next_redirect(std::string_view current, std::optional<std::string_view> location,
                                unsigned followed, unsigned max_redirects,
                                std::span<std::string const> allowed_hosts) {
  redirect_decision out;
  if (!location || location->empty()) {
    out.refusal = "redirect without Location";
    return out;
  }
  if (followed >= max_redirects) {
    out.refusal = "too many redirects";
    return out;
  }
  auto const base = boost::urls::parse_absolute_uri(current);
  auto const ref = boost::urls::parse_uri_reference(*location);
  boost::urls::url target;
  if (!base || !ref || !boost::urls::resolve(*base, *ref, target)) {
    out.refusal = "redirect refused: not a URL";
    return out;
  }
  target.remove_fragment();
  std::string url(target.buffer());
  if (auto const why = check_url(url, allowed_hosts)) {
    constexpr std::string_view host_rule = "host not allowed: ";
    out.refusal = why->starts_with(host_rule) ? "redirect to " + *why : "redirect refused: " + *why;
    return out;
  }
  out.url = std::move(url);
  return out;
}

std::optional<std::string> size_refusal(std::optional<std::uint64_t> content_length, std::uint64_t received,
                                        std::uint64_t max_bytes) {
  std::uint64_t const size = content_length && *content_length > received ? *content_length : received;
  if (size <= max_bytes) return std::nullopt;
  return "too large: " + std::to_string(size) + " > " + std::to_string(max_bytes);
}

}  // namespace velt::media::detail
