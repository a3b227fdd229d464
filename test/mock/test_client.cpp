// SPDX-License-Identifier: BSL-1.0
#include "test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace velt::mock::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using boost::system::error_code;

std::string reply::header(std::string const& lower_name) const {
  auto const it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

json::value reply::json() const { return json::parse(body); }

peer peer::of(server const& srv) {
  return peer{srv.host(), srv.port(), srv.options().tls, srv.ca_file().string(), srv.api_key(), srv.auth_token()};
}

test_client::test_client(peer p, SSL_SESSION* resume, std::chrono::milliseconds timeout)
    : srv_(std::move(p)), timeout_(timeout), ctx_(asio::ssl::context::tls_client) {
  if (auto ec = connect(srv_.host, resume)) throw std::runtime_error("test_client: connect: " + ec.message());
}

test_client::~test_client() { close(); }

template <class Start>
error_code test_client::run(Start&& start) {
  bool done = false;
  error_code result;
  start([&](error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc_.restart();
  ioc_.run_for(timeout_);
  if (!done) {
    close();
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(2));
    return asio::error::timed_out;
  }
  return result;
}

error_code test_client::connect(std::string const& verify_host, SSL_SESSION* resume) {
  asio::ip::tcp::endpoint const ep(asio::ip::make_address(srv_.host), srv_.port);
  if (!srv_.tls) {
    plain_.emplace(ioc_);
    return run([&](auto h) { plain_->async_connect(ep, std::move(h)); });
  }
  ctx_.set_verify_mode(asio::ssl::verify_peer);
  ctx_.load_verify_file(srv_.ca_file);
  SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_2_VERSION);
  tls_.emplace(ioc_, ctx_);
  tls_->set_verify_callback(asio::ssl::host_name_verification(verify_host));
  if (resume != nullptr) SSL_set_session(tls_->native_handle(), resume);
  if (auto ec = run([&](auto h) { beast::get_lowest_layer(*tls_).async_connect(ep, std::move(h)); })) return ec;
  return run([&](auto h) { tls_->async_handshake(asio::ssl::stream_base::client, std::move(h)); });
}

error_code test_client::try_connect(server const& srv, std::string const& verify_host, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(srv.ca_file().string());
  asio::ssl::stream<beast::tcp_stream> s(ioc, ctx);
  s.set_verify_callback(asio::ssl::host_name_verification(verify_host));
  beast::get_lowest_layer(s).expires_after(timeout);
  error_code result = asio::error::timed_out;
  asio::ip::tcp::endpoint const ep(asio::ip::make_address(srv.host()), srv.port());
  beast::get_lowest_layer(s).async_connect(ep, [&](error_code ec) {
    if (ec) {
      result = ec;
      return;
    }
    s.async_handshake(asio::ssl::stream_base::client, [&](error_code hec) { result = hec; });
  });
  ioc.run_for(timeout);
  return result;
}

error_code test_client::send(std::string_view method, std::string_view target, std::string_view body,
                             request_options const& o) {
  std::string req;
  req += method;
  req += ' ';
  req += target;
  req += " HTTP/1.1\r\nHost: ";
  req += srv_.host;
  req += "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (o.api_key) req += "x-velt-api-key: " + o.api_key_value.value_or(srv_.api_key) + "\r\n";
  if (o.auth_token) req += "x-velt-auth-token: " + o.auth_token_value.value_or(srv_.auth_token) + "\r\n";
  for (auto const& [k, v] : o.headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  req += body;
  if (tls_) return run([&](auto h) { asio::async_write(*tls_, asio::buffer(req), std::move(h)); });
  return run([&](auto h) { asio::async_write(*plain_, asio::buffer(req), std::move(h)); });
}

error_code test_client::receive(reply& out, std::size_t header_limit) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  parser.body_limit(256u << 20);
  error_code ec = tls_ ? run([&](auto h) { http::async_read(*tls_, buffer_, parser, std::move(h)); })
                       : run([&](auto h) { http::async_read(*plain_, buffer_, parser, std::move(h)); });
  if (ec) return ec;
  auto& res = parser.get();
  out = reply{};
  out.status = res.result_int();
  for (auto const& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(f.value());
  }
  out.chunked = res.chunked();
  out.keep_alive = res.keep_alive();
  std::size_t head = 0;
  for (auto const& f : res) head += f.name_string().size() + f.value().size() + 4;
  out.header_bytes = head;
  out.body = std::move(res.body());
  return {};
}

reply test_client::request(std::string_view method, std::string_view target, std::string_view body,
                           request_options const& o) {
  if (auto ec = send(method, target, body, o)) throw std::runtime_error("test_client: send: " + ec.message());
  reply r;
  if (auto ec = receive(r)) throw std::runtime_error("test_client: receive: " + ec.message());
  return r;
}

error_code test_client::receive_head(reply& out) {
  http::response_parser<http::empty_body> parser;
  parser.body_limit(boost::none);  // the head of a 3 GiB answer is still a head
  error_code ec = tls_ ? run([&](auto h) { http::async_read_header(*tls_, buffer_, parser, std::move(h)); })
                       : run([&](auto h) { http::async_read_header(*plain_, buffer_, parser, std::move(h)); });
  if (ec) return ec;
  auto const& res = parser.get();
  out = reply{};
  out.status = res.result_int();
  for (auto const& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(f.value());
  }
  out.chunked = res.chunked();
  out.keep_alive = res.keep_alive();
  return {};
}

std::pair<std::string, error_code> test_client::read_at_least(std::size_t n) {
  std::string data(static_cast<char const*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char chunk[16384];
  while (data.size() < n) {
    std::size_t got = 0;
    auto read = [&](auto& s) {
      return run([&](auto h) {
        s.async_read_some(asio::buffer(chunk), [&got, h = std::move(h)](error_code ec, std::size_t k) mutable {
          got = k;
          h(ec);
        });
      });
    };
    error_code const ec = tls_ ? read(*tls_) : read(*plain_);
    data.append(chunk, got);
    if (ec) return {data, ec};
  }
  return {data, {}};
}

std::pair<std::string, error_code> test_client::read_to_end() {
  std::string data(static_cast<char const*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char chunk[16384];
  for (;;) {
    std::size_t got = 0;
    auto read = [&](auto& s) {
      return run([&](auto h) {
        s.async_read_some(asio::buffer(chunk), [&got, h = std::move(h)](error_code ec, std::size_t n) mutable {
          got = n;
          h(ec);
        });
      });
    };
    error_code const ec = tls_ ? read(*tls_) : read(*plain_);
    data.append(chunk, got);
    if (ec) return {data, ec};
  }
}

bool test_client::resumed() { return tls_ && SSL_session_reused(tls_->native_handle()) == 1; }

SSL_SESSION* test_client::get1_session() {
  return tls_ ? SSL_get1_session(tls_->native_handle()) : nullptr;
}

void test_client::shutdown() {
  if (tls_ && beast::get_lowest_layer(*tls_).socket().is_open()) {
    auto const saved = timeout_;
    timeout_ = std::chrono::seconds(2);
    (void)run([&](auto h) { tls_->async_shutdown(std::move(h)); });
    timeout_ = saved;
  }
  close();
}

void test_client::close() {
  error_code ec;
  if (tls_) beast::get_lowest_layer(*tls_).socket().close(ec);
  if (plain_) plain_->socket().close(ec);
}

std::string get_body(std::string const& org, std::string const& user, std::optional<std::string> const& token) {
  json::object data;
  data["organizationId"] = org;
  data["userId"] = user;
  if (token) data["pageToken"] = *token;
  return json::serialize(json::object{{"data", data}});
}

walk_result walk_export(test_client& c, server const& srv, std::string const& user, std::string_view path) {
  walk_result w;
  std::optional<std::string> token;
  for (std::size_t page = 0; page < 100000; ++page) {
    reply const r = c.post(path, get_body(srv.organization_id(), user, token));
    if (r.status != 200) throw std::runtime_error("walk_export: HTTP " + std::to_string(r.status) + ": " + r.body);
    w.bodies.push_back(r.body);
    auto const result = r.json().as_object().at("result").as_object();
    for (auto const& [key, items] : result.at("data").as_object()) {
      auto& merged = w.merged[key];
      if (!merged.is_array()) merged = json::array();
      for (auto const& item : items.as_array()) merged.as_array().push_back(item);
    }
    auto const* next = result.if_contains("nextPageToken");
    if (next == nullptr) {
      w.end = "absent";
      return w;
    }
    if (next->is_null()) {
      w.end = "null";
      return w;
    }
    if (next->as_string().empty()) {
      w.end = "empty";
      return w;
    }
    token = std::string(next->as_string());
    w.tokens.push_back(*token);
  }
  throw std::runtime_error("walk_export: no end");
}

}  // namespace velt::mock::testing
