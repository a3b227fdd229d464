// SPDX-License-Identifier: BSL-1.0
// One client connection: TLS handshake (counting full and resumed ones), then HTTP/1.1
// requests read with Beast, answered by the API handler, delayed and deformed by the fault
// plan, and written according to a delivery plan. Runs as a coroutine on its own strand.
#pragma once

#include "server_core.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace velt::mock::detail {

/// Serves a connection until the peer closes it, a fault or idle timeout ends it, or the
/// server stops (the frame is destroyed with the io_context).
boost::asio::awaitable<void> serve_connection(std::shared_ptr<server_core> core,
                                              boost::asio::ip::tcp::socket socket);

}  // namespace velt::mock::detail
