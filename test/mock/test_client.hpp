// SPDX-License-Identifier: BSL-1.0
// A small synchronous HTTP/1.1 client over TLS (or plain TCP) for the mock server's tests.
// Every operation runs on a private io_context with a deadline, so a hang is a failure.
#pragma once

#include <velt/mock/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace velt::mock::testing {

/// A response as the tests see it.
struct reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  bool chunked = false;
  std::size_t header_bytes = 0;  ///< size of the response head
  bool keep_alive = true;

  std::string header(std::string const& lower_name) const;
  /// The body parsed with Boost.JSON (throws on invalid JSON).
  boost::json::value json() const;
};

/// Headers and credentials of a request.
struct request_options {
  bool api_key = true, auth_token = true;  ///< send the server's credentials
  std::optional<std::string> api_key_value, auth_token_value;  ///< override the values
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Where and how to reach a server.
struct peer {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  bool tls = true;
  std::string ca_file;
  std::string api_key, auth_token;
  static peer of(server const& srv);
};

class test_client {
 public:
  /// Connects (TCP + TLS when the server uses TLS), trusting the CA file and verifying the
  /// host name. `resume`: an SSL_SESSION to resume (not consumed). Throws on failure.
  explicit test_client(peer p, SSL_SESSION* resume = nullptr,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15));
  explicit test_client(server const& srv, SSL_SESSION* resume = nullptr,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15))
      : test_client(peer::of(srv), resume, timeout) {}
  ~test_client();
  test_client(test_client const&) = delete;
  test_client& operator=(test_client const&) = delete;

  /// Connects without throwing; for handshake failure tests.
  static boost::system::error_code try_connect(server const& srv, std::string const& verify_host,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Writes a request.
  boost::system::error_code send(std::string_view method, std::string_view target, std::string_view body,
                                 request_options const& o = {});
  /// Reads one response with Beast (header limit as given).
  boost::system::error_code receive(reply& out, std::size_t header_limit = 64 * 1024);
  /// send + receive; throws std::runtime_error on a transport error.
  reply request(std::string_view method, std::string_view target, std::string_view body,
                request_options const& o = {});
  reply post(std::string_view target, std::string_view body, request_options const& o = {}) {
    return request("POST", target, body, o);
  }
  /// Reads only a response's head (status and headers; `body` stays empty), for answers
  /// whose body is too big to read; the body's first bytes stay buffered for read_at_least.
  boost::system::error_code receive_head(reply& out);
  /// Reads raw bytes (after what receive_head left buffered) until at least `n` have come or
  /// the connection ends; returns them with the error that ended it, if any.
  std::pair<std::string, boost::system::error_code> read_at_least(std::size_t n);
  /// Reads raw bytes until the connection ends (or the timeout); returns them with the error
  /// that ended it.
  std::pair<std::string, boost::system::error_code> read_to_end();

  /// Whether the TLS handshake resumed a session.
  bool resumed();
  /// The current TLS session (caller frees with SSL_SESSION_free).
  SSL_SESSION* get1_session();
  /// Closes the socket at once (no close_notify).
  void close();
  /// Sends close_notify and waits briefly for the server to close; then closes. Keeps the
  /// TLS session resumable.
  void shutdown();

 private:
  template <class Start>
  boost::system::error_code run(Start&& start);
  boost::system::error_code connect(std::string const& verify_host, SSL_SESSION* resume);

  peer srv_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream>> tls_;
  std::optional<boost::beast::tcp_stream> plain_;
  boost::beast::flat_buffer buffer_;
};

/// `{"data":{"organizationId":org,"userId":user[,"pageToken":token]}}`.
std::string get_body(std::string const& org, std::string const& user,
                     std::optional<std::string> const& token = std::nullopt);

/// Walks a user's whole export on one connection; returns the merged data object, the page
/// bodies and the final page's end form ("absent", "null", "empty").
struct walk_result {
  boost::json::object merged;
  std::vector<std::string> bodies;
  std::vector<std::string> tokens;
  std::string end;
};
walk_result walk_export(test_client& c, server const& srv, std::string const& user,
                        std::string_view path = "/v2/users/data/get");

}  // namespace velt::mock::testing
