// SPDX-License-Identifier: BSL-1.0
// Helpers shared by the wire decoding tests.
#pragma once

#include <velt/wire.hpp>

#include <chrono>
#include <string_view>

namespace velt::test {

/// A fixed "now" so that HTTP-date Retry-After values give fixed delays.
inline std::chrono::system_clock::time_point const fixed_now =
    std::chrono::sys_days{std::chrono::year{2025} / std::chrono::June / 3} +
    std::chrono::hours{12};

inline wire::http_response_view response(unsigned status, std::string_view body,
                                         std::string_view retry_after = {},
                                         std::string_view content_type = "application/json") {
  return wire::http_response_view{status, body, retry_after, content_type};
}

}  // namespace velt::test
