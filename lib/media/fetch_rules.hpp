// SPDX-License-Identifier: BSL-1.0
// The decisions of the media downloader that need no socket (design note §6): what a
// response status means, where a redirect may lead, and when a body is too large. The
// downloader (velt::media::fetcher, to come) does the I/O they ask for.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace velt::media::detail {

/// What to do with a response, by its status.
enum class response_action {
  accept,    ///< 200: store the body
  redirect,  ///< 301, 302, 303, 307, 308: follow `Location` (always with GET)
  retry,     ///< 408, 429, 5xx: again, after a backoff (up to the attempt limit)
  fail,      ///< anything else (206 and other 2xx, 1xx, 304, 4xx): final, "HTTP <status>"
};

/// The action for a final (non-interim) status.
response_action classify_status(unsigned status) noexcept;

/// Where a redirect leads, or why it is not followed.
struct redirect_decision {
  /// The absolute target without its fragment (empty when refused).
  std::string url;
  /// Empty when followed; else "redirect without Location", "too many redirects",
  /// "redirect to host not allowed: <host>[:<port>]" or "redirect refused: <reason of
  /// check_url>" (such as "not https").
  std::string refusal;
};

/// `location` (absolute, scheme-relative or relative) resolved against `current` (RFC 3986
/// §5) and checked with check_url against `allowed_hosts`; `followed` redirects were taken
/// before this one, at most `max_redirects` are allowed in all.
redirect_decision next_redirect(std::string_view current, std::optional<std::string_view> location,
                                unsigned followed, unsigned max_redirects,
                                std::span<std::string const> allowed_hosts);

/// Why a body must not be stored: "too large: N > CAP" when the announced `content_length`
/// or the bytes `received` so far exceed `max_bytes`; nullopt when it still fits.
std::optional<std::string> size_refusal(std::optional<std::uint64_t> content_length, std::uint64_t received,
                                        std::uint64_t max_bytes);

}  // namespace velt::media::detail
