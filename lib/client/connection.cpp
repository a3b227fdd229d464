// SPDX-License-Identifier: BSL-1.0
#include "client/connection.hpp"
#include "client/inflating_body.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

namespace velt::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

connection::connection(asio::any_io_executor ex, asio::ssl::context* tls, origin const& o,
                       proxy_route const* proxy, client_counters& counters)
    : origin_(o), proxy_(proxy), counters_(counters) {
  if (tls)
    tls_.emplace(ex, *tls);
  else
    plain_.emplace(ex);
  buffer_.reserve(16 * 1024);
}

connection::~connection() {
  beast::error_code ignored;
  tcp().socket().close(ignored);
  if (connected_) {
    counters_.connections_open.fetch_sub(1, std::memory_order_relaxed);
    counters_.add(counters_.connections_closed);
  }
}

beast::tcp_stream& connection::tcp() { return tls_ ? tls_->next_layer() : *plain_; }

namespace {
template <class Duration>
void arm(beast::tcp_stream& s, Duration d) {
  if (d.count() > 0)
    s.expires_after(d);
  else
    s.expires_never();
}
}  // namespace

asio::awaitable<exchange_result> connection::async_open(timeout_options const& t,
                                                        tls_session_cache* sessions) {
  exchange_result r;
  client_counters& counters = counters_;
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream& s = tcp();

  // Resolve (IP literals need no lookup); the lookup is bounded by the connect timeout.
  // With a proxy, the proxy is what is resolved and connected to.
  std::string const& host = proxy_ ? proxy_->proxy.host : origin_.host;
  std::uint16_t const port = proxy_ ? proxy_->proxy.port : origin_.port;
  std::string const shown = proxy_ ? "proxy " + proxy_->proxy.authority : origin_.host_header;
  tcp::resolver::results_type endpoints;
  boost::system::error_code ec;
  auto const address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, port), host,
                                                    std::to_string(port));
  } else {
    tcp::resolver resolver(ex);
    asio::steady_timer guard(ex);
    if (t.connect.count() > 0) {
      guard.expires_after(t.connect);
      guard.async_wait([&resolver](boost::system::error_code e) {
        if (!e) resolver.cancel();
      });
    }
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), tuple_awaitable);
    guard.cancel();
    if (rec) {
      r.ec = rec == asio::error::operation_aborted && t.connect.count() > 0 &&
                     guard.expiry() <= clock_type::now()
                 ? make_error_code(errc::deadline_exceeded)
                 : rec;
      r.what = proxy_ ? "resolve " + shown : "resolve " + host;
      r.at_proxy = proxy_ != nullptr;
      co_return r;
    }
    endpoints = std::move(results);
  }

  arm(s, t.connect);
  auto [cec, ep] = co_await s.async_connect(endpoints, tuple_awaitable);
  if (cec) {
    r.ec = cec;
    r.what = "connect to " + shown;
    r.at_proxy = proxy_ != nullptr;
    co_return r;
  }
  s.socket().set_option(tcp::no_delay(true), ec);
  counters.connection_opened();
  connected_ = true;
  if (proxy_) {
    exchange_result tunnel = co_await open_tunnel(t);
    if (tunnel.ec) co_return tunnel;
  }

  if (tls_) {
    SSL* ssl = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (origin_.host_is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, origin_.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, origin_.host.c_str());
      X509_VERIFY_PARAM_set1_host(param, origin_.host.c_str(), origin_.host.size());
    }
    if (sessions) sessions->apply(ssl);
    arm(s, t.handshake);
    auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
    if (hec) {
      r.ec = hec;
      r.what = "TLS handshake with " + origin_.host_header;
      long const verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK)
        r.what += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      co_return r;
    }
    counters.add(SSL_session_reused(ssl) ? counters.tls_handshakes_resumed
                                         : counters.tls_handshakes_full);
  }
  s.expires_never();
  co_return r;
}

asio::awaitable<exchange_result> connection::open_tunnel(timeout_options const& t) {
  exchange_result r;
  r.at_proxy = true;
  beast::tcp_stream& s = tcp();
  std::string const shown = "proxy " + proxy_->proxy.authority;
  arm(s, t.connect);
  auto [wec, written] = co_await asio::async_write(s, asio::buffer(proxy_->connect_request), tuple_awaitable);
  (void)written;
  if (wec) {
    r.ec = wec;
    r.what = "send CONNECT to " + shown;
    co_return r;
  }
  // A 2xx answer to CONNECT has no body whatever its headers say; any other answer ends
  // the connection, so its body is never read: the parser stops after the header.
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  parser.header_limit(16 * 1024);
  auto [rec, read] = co_await http::async_read(s, buffer_, parser, tuple_awaitable);
  (void)read;
  if (rec) {
    r.ec = rec;
    r.what = "read the answer of " + shown + " to CONNECT";
    co_return r;
  }
  auto const& head = parser.get();
  unsigned const status = head.result_int();
  if (status < 200 || status >= 300) {
    r.failure = proxy_refusal(status, head.reason(), proxy_->proxy, origin_);
    r.ec = r.failure->code;
    co_return r;
  }
  if (buffer_.size() != 0) {
    // The origin's TLS (or HTTP) starts after the tunnel is up: nothing may come first.
    r.ec = make_error_code(errc::proxy_refused);
    r.what = shown + " sent " + std::to_string(buffer_.size()) +
             " unexpected bytes after its answer to CONNECT";
    co_return r;
  }
  co_return r;
}

bool connection::looks_alive() {
  if (buffer_.size() != 0) return false;
  auto& sock = tcp().socket();
  if (!sock.is_open()) return false;
  char byte;
  ssize_t const n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  return false;  // 0: the server closed it; > 0: unsolicited bytes (close_notify, garbage)
}

asio::awaitable<exchange_result> connection::async_exchange(request_type const& req,
                                                            exchange_limits const& limits,
                                                            clock_type::time_point deadline,
                                                            tls_session_cache* sessions,
                                                            velt::delivery* progress) {
  client_counters& counters = counters_;
  ++exchanges;
  exchange_result r;
  if (tls_)
    r = co_await exchange_on(*tls_, req, limits, deadline, counters, progress);
  else
    r = co_await exchange_on(*plain_, req, limits, deadline, counters, progress);
  // TLS 1.3 session tickets arrive after the handshake, with the first response.
  if (tls_ && sessions && !r.ec && !session_stored_) {
    sessions->store(tls_->native_handle());
    session_stored_ = true;
  }
  co_return r;
}

template <class Stream>
asio::awaitable<exchange_result> connection::exchange_on(Stream& s, request_type const& req,
                                                         exchange_limits const& limits,
                                                         clock_type::time_point deadline,
                                                         client_counters& counters,
                                                         velt::delivery* progress) {
  exchange_result r;
  // The rules (how far the request got, read expiry, interim responses, budget share) are
  // in response_exchange; this loop does the I/O they ask for.
  response_exchange ex(read_timing{limits.idle_read, limits.idle_read_before_first_byte}, deadline);
  auto const report = [&] {
    r.delivery = ex.delivery();
    r.response_started = ex.response_started();
    if (progress != nullptr) *progress = r.delivery;
  };
  beast::tcp_stream& t = tcp();
  t.expires_at(deadline);
  auto [wec, written] = co_await http::async_write(s, req, tuple_awaitable);
  counters.add(counters.bytes_sent, written);
  ex.on_request_written(written, wec == beast::error::timeout);
  report();
  if (wec) {
    r.ec = wec;
    r.what = "send request";
    co_return r;
  }

  // The read buffer holds the header block or one chunk line / trailer at a time (body
  // bytes go to the parser as they arrive): bounding it bounds chunk extensions and
  // trailers, which no other limit covers (overflow → errc::response_too_large).
  buffer_.max_size(limits.max_header_bytes + 64 * 1024);
  // Interim (1xx) responses may precede the final one (100 Continue, 102 Processing,
  // 103 Early Hints): Beast completes a message after a 1xx header (a 1xx has no body), so
  // skip it and parse the next message from the same buffer with a fresh parser, each with
  // the full limits. How many, and which are errors: response_exchange::on_message.
  // The body is inflated as it arrives when it is gzip-coded (inflating_body.hpp):
  // `max_body_bytes` bounds the inflated size there, and the parser's body limit still
  // bounds the bytes on the wire (coded bytes beyond the inflated limit make no sense).
  std::optional<http::response_parser<inflating_body>> parser;
  auto fresh_parser = [&] {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
    parser->body_limit(limits.max_body_bytes);
    parser->get().body().max_bytes = limits.max_body_bytes;
  };
  fresh_parser();
  // The body budget is taken once the final response's header is in (its Content-Length
  // known) and held until the body is read.
  std::optional<permit> body_permit;
  for (;;) {
    while (!parser->is_done()) {
      if (limits.body_budget != nullptr && !body_permit && parser->is_header_done() &&
          !is_interim(parser->get().result_int())) {
        auto const length = parser->content_length();
        // A gzip body's share is an estimate of its inflated size (body_budget_share); the
        // inflater holds it to max_body_bytes whatever the estimate.
        auto const& head = parser->get();
        auto const coding = head.find(http::field::content_encoding);
        bool const coded = coding != head.end() &&
                           parse_content_coding(coding->value()).what != content_coding::kind::identity;
        std::size_t const need = body_budget_share(
            length ? std::optional<std::uint64_t>(*length) : std::nullopt, limits.body_budget_bytes,
            coded, limits.max_body_bytes);
        t.expires_never();
        auto const waited = co_await limits.body_budget->async_acquire(need, deadline);
        if (waited) {
          r.ec = waited == asio::error::timed_out ? beast::error::timeout : waited;
          r.what = "wait for the response body budget";
          co_return r;
        }
        body_permit.emplace(*limits.body_budget, need);
        if (parser->is_done()) break;
      }
      t.expires_at(ex.read_expiry(clock_type::now()));
      auto [rec, n] = co_await http::async_read_some(s, buffer_, *parser, tuple_awaitable);
      counters.add(counters.bytes_received, n);
      if (parser->got_some() || buffer_.size() > 0) ex.on_bytes();
      report();
      if (rec) {
        r.ec = rec;
        r.what = "read response";
        // The body reader says what was wrong with the coding ("corrupt gzip body: ...").
        if (auto& failure = parser->get().body().failure; !failure.empty())
          r.what += ": " + failure;
        co_return r;
      }
    }
    auto const next = ex.on_message(parser->get().result_int(), buffer_.size() > 0);
    if (next.what == response_exchange::step::kind::final_response) break;
    if (next.what == response_exchange::step::kind::fail) {
      r.ec = make_error_code(errc::malformed_response);
      r.what = next.why;
      co_return r;
    }
    fresh_parser();
  }
  report();
  t.expires_never();
  auto res = parser->release();
  r.response.status = res.result_int();
  r.response.keep_alive = res.keep_alive() && !res.need_eof();
  if (auto it = res.find(http::field::retry_after); it != res.end())
    r.response.retry_after = std::string(it->value());
  if (auto it = res.find(http::field::content_type); it != res.end())
    r.response.content_type = std::string(it->value());
  if (res.body().coding.what == content_coding::kind::gzip) {
    counters.add(counters.responses_inflated);
    counters.add(counters.bytes_inflated, res.body().data.size());
  }
  r.response.body = std::move(res.body().data);
  r.body_permit = std::move(body_permit);
  co_return r;
}

}  // namespace velt::detail
