// SPDX-License-Identifier: BSL-1.0
// One HTTP/1.1 connection (TLS or, when explicitly allowed, plain TCP) to the API origin:
// connect, handshake, and exchange one request/response at a time. Owns no policy: it
// reports what happened (and how far the request got) and the pool and the retry loop
// decide what to do about it.
#pragma once

#include "client/client_counters.hpp"
#include "client/fifo_semaphore.hpp"
#include "client/origin.hpp"
#include "client/proxy.hpp"
#include "client/response_exchange.hpp"
#include "client/tls_session_cache.hpp"

#include <velt/client_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace velt::detail {

using request_type = boost::beast::http::request<boost::beast::http::string_body>;

/// The parts of a response the client uses.
struct http_response {
  unsigned status = 0;
  std::string body;
  std::string retry_after;
  std::string content_type;
  bool keep_alive = false;
};

/// What one exchange on a connection gave.
struct exchange_result {
  boost::system::error_code ec;  ///< set when no complete response was read
  std::string what;              ///< context for `ec` ("connect", "TLS handshake", ...)
  /// How far the request got: maybe_delivered once some request bytes left us (it may have
  /// reached the server), answered with a complete response.
  velt::delivery delivery = velt::delivery::not_sent;
  bool response_started = false; ///< some response bytes arrived
  http_response response;
  /// The body's share of the pool's body budget, held until the body is decoded (the
  /// caller drops it): a body waiting for a decode thread still counts.
  std::optional<permit> body_permit;
  /// The failure happened at the proxy (reaching it, or its answer to CONNECT).
  bool at_proxy = false;
  /// A failure already described in full (the proxy's refusal of the tunnel); when set,
  /// `ec` is its code.
  std::optional<error_details> failure;
};

struct exchange_limits {
  std::size_t max_header_bytes;
  std::size_t max_body_bytes;
  std::chrono::milliseconds idle_read;
  /// Whether `idle_read` also bounds the wait for a response's first byte. Off for requests
  /// the server may take minutes to answer (a delete); their wait is bounded by the
  /// request's deadline (when there is none, `idle_read` bounds it anyway).
  bool idle_read_before_first_byte = true;
  /// Shared bound on body bytes being read (null: none); `body_budget_bytes` is its size.
  fifo_semaphore* body_budget = nullptr;
  std::size_t body_budget_bytes = 0;
};

class connection {
 public:
  /// `tls` is null for plain HTTP; `proxy` null to connect directly (it and `o` must
  /// outlive the connection).
  connection(boost::asio::any_io_executor ex, boost::asio::ssl::context* tls, origin const& o,
             proxy_route const* proxy, client_counters& counters);
  ~connection();

  /// Connects to the first reachable endpoint (of the proxy, when there is one, then opens
  /// a CONNECT tunnel to the origin through it) and, for TLS, handshakes with the origin
  /// (resuming a cached session when one is offered). Errors carry `what` = "connect" /
  /// "TLS handshake" / the proxy's part. The tunnel's CONNECT exchange is bounded by the
  /// connect timeout too.
  boost::asio::awaitable<exchange_result> async_open(timeout_options const& t,
                                                     tls_session_cache* sessions);

  /// Sends `req` and reads the complete response before `deadline`, skipping up to
  /// `max_interim_responses` interim (1xx) responses before it (response_exchange.hpp has
  /// the rules). `progress`, when set, follows the result's `delivery` as the exchange goes
  /// on, so that it is known even when the exchange ends in an exception (a cancellation).
  boost::asio::awaitable<exchange_result> async_exchange(request_type const& req,
                                                         exchange_limits const& limits,
                                                         clock_type::time_point deadline,
                                                         tls_session_cache* sessions,
                                                         velt::delivery* progress = nullptr);

  /// For an idle pooled connection: false when the server closed it (EOF pending) or sent
  /// anything unsolicited (e.g. a TLS close_notify), so it must not be reused.
  bool looks_alive();

  clock_type::time_point idle_since{};
  std::uint64_t exchanges = 0;

 private:
  template <class Stream>
  boost::asio::awaitable<exchange_result> exchange_on(Stream& s, request_type const& req,
                                                      exchange_limits const& limits,
                                                      clock_type::time_point deadline,
                                                      client_counters& counters,
                                                      velt::delivery* progress);
  boost::beast::tcp_stream& tcp();
  /// Sends the CONNECT and reads the proxy's answer (its header only: a 2xx has no body,
  /// any other answer ends the connection).
  boost::asio::awaitable<exchange_result> open_tunnel(timeout_options const& t);

  origin const& origin_;
  proxy_route const* proxy_;
  client_counters& counters_;
  bool connected_ = false;
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream>> tls_;
  std::optional<boost::beast::tcp_stream> plain_;
  boost::beast::flat_buffer buffer_;
  bool session_stored_ = false;
};

}  // namespace velt::detail
