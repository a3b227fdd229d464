// SPDX-License-Identifier: BSL-1.0
// The connection pool of one origin: at most `max_connections` open connections, handed
// out in FIFO order, kept alive between requests, resumed TLS sessions for new ones, and
// transparent resending when a pooled connection turns out to be dead. It decides nothing
// about retries: a failure goes back to the caller with how far the request got.
#pragma once

#include "client/client_counters.hpp"
#include "client/connection.hpp"
#include "client/fifo_semaphore.hpp"
#include "client/origin.hpp"
#include "client/tls_session_cache.hpp"

#include <velt/client_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace velt::detail {

/// The outcome of sending one request through the pool.
struct send_result {
  /// No complete response (transport failure). Its `delivery` is the final attempt's (after
  /// a resend on a fresh connection, the resend's): not_sent or maybe_delivered.
  std::optional<error_details> error;
  http_response response;                ///< when no error
  /// The response body's share of the body budget: released when the caller drops it,
  /// after decoding the body.
  std::optional<permit> body_permit;
};

/// What a request is, for the pool's decisions.
struct send_options {
  /// Resend once on a fresh connection when a pooled connection fails before any response
  /// byte. Only for requests that are safe to repeat.
  bool idempotent = true;
  clock_type::time_point deadline;  ///< for the whole exchange
  /// When set, follows how far the request has got (see connection::async_exchange), also
  /// when the send ends in an exception.
  velt::delivery* progress = nullptr;
};

class connection_pool {
 public:
  /// `proxy`: the route of every connection through an HTTP proxy; none: direct.
  connection_pool(boost::asio::any_io_executor ex, origin o,
                  std::shared_ptr<boost::asio::ssl::context> tls, client_options const& opts,
                  client_counters& counters, std::optional<proxy_route> proxy = std::nullopt);
  ~connection_pool();

  /// Sends `req` on a pooled (or new) connection and reads the response.
  boost::asio::awaitable<send_result> async_send(request_type const& req, send_options o);

  /// Closes every idle connection.
  void close_idle();

  std::size_t max_connections() const { return max_connections_; }

 private:
  std::unique_ptr<connection> take_idle();
  void put_idle(std::unique_ptr<connection> c);

  boost::asio::any_io_executor executor_;
  origin origin_;
  std::optional<proxy_route> proxy_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  timeout_options timeouts_;
  exchange_limits limits_;
  std::chrono::milliseconds idle_timeout_;
  std::size_t max_connections_;
  client_counters& counters_;
  tls_session_cache sessions_;
  fifo_semaphore permits_;
  std::unique_ptr<fifo_semaphore> body_budget_;  ///< null: no bound on body bytes in flight
  std::mutex idle_mutex_;
  std::vector<std::unique_ptr<connection>> idle_;  // most recently used last
};

}  // namespace velt::detail
