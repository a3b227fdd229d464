// SPDX-License-Identifier: BSL-1.0
// How a response goes on the wire, faults included: the responses that replace the real one
// (429, 5xx JSON or HTML, RESOURCE_EXHAUSTED, UNAVAILABLE, malformed JSON) and the plan of
// writes, pauses and closes that realises transport faults (truncation, reset, slow drip,
// chunked encoding, oversized headers, Connection: close). Sans-I/O.
#pragma once

#include "api_handler.hpp"

#include <velt/mock/options.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace velt::mock::detail {

/// Whether a fault kind answers instead of the API (the request is then not handled).
bool replaces_response(fault_kind k) noexcept;

/// Whether a fault kind changes the API's answer after handling the request (malformed_json
/// and the content-coding faults).
bool transforms_response(fault_kind k) noexcept;

/// The response a replacing or transforming fault sends. `real` is the API's answer (needed only for
/// malformed_json, which cuts it short). `now` resolves a "+N" Retry-After.
api_response fault_response(fault const& f, api_response const* real, std::chrono::system_clock::time_point now);

/// An IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point t);

struct delivery_step {
  enum class op {
    send,          ///< write bytes [from, to) of head + body
    pause,         ///< wait `pause`
    reset,         ///< abort the TCP connection (RST)
    close_clean,   ///< TLS close_notify (if TLS), then close
    close_abrupt,  ///< close the socket without TLS close_notify
  };
  op kind = op::send;
  std::size_t from = 0, to = 0;
  std::chrono::milliseconds pause{0};
};

struct delivery_plan {
  std::string head;
  shared_body body;                  ///< the bytes after the head (chunk-framed when chunked)
  std::vector<delivery_step> steps;
  bool keep_alive = true;            ///< the connection serves further requests afterwards
  bool complete = true;              ///< the whole response is sent
  std::size_t total() const noexcept { return head.size() + (body ? body->size() : 0); }
};

/// Plans the delivery of `r`, transformed by a non-replacing `action` fault if any.
/// `keep_alive` is what the request asked for; `http10` whether it was HTTP/1.0.
delivery_plan plan_delivery(api_response const& r, std::optional<fault> const& action, bool keep_alive,
                            bool http10 = false);

/// `body` in chunked transfer coding with chunks of varying sizes.
std::string chunk_frame(std::string const& body);

}  // namespace velt::mock::detail
