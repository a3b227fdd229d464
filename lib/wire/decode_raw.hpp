// SPDX-License-Identifier: BSL-1.0
// decode_user_data_raw for transports that own the response body: the page keeps the body
// itself instead of a copy.
#pragma once

#include <velt/wire.hpp>

#include <string>

namespace velt::wire {

/// `decode_user_data_raw(r, ...)` where `r.body` is `body`'s text; `body` may be moved from.
result<user_data_page> decode_user_data_raw_owned(http_response_view const& r, std::string&& body,
                                                  decode_limits const& limits,
                                                  std::chrono::system_clock::time_point now =
                                                      std::chrono::system_clock::now());

}  // namespace velt::wire
