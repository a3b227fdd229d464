// SPDX-License-Identifier: BSL-1.0
// raw_http_server.hpp: a plain-HTTP server on loopback whose answers are bytes chosen by the
// test (a well-formed response or anything else), for the hardening tests and the fuzzed
// HTTP path; and the pieces it is made of: reading one request, writing all of a buffer.
// Header-only, POSIX; no test framework.
#pragma once

#include "loopback.hpp"

#include <sys/socket.h>
#include <sys/types.h>

#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace velt::test {

/// One HTTP request as received (head with its final CRLFCRLF, and the body).
struct raw_request {
  std::string head;
  std::string body;
  /// The value of header `name` (case-insensitive), empty when absent.
  std::string header(std::string_view name) const {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      std::size_t const start = pos + 2;
      std::size_t const end = head.find("\r\n", start);
      std::string_view line(head.data() + start, (end == std::string::npos ? head.size() : end) - start);
      auto const colon = line.find(':');
      if (colon == name.size()) {
        bool same = true;
        for (std::size_t i = 0; i < colon; ++i)
          same = same && std::tolower(static_cast<unsigned char>(line[i])) ==
                             std::tolower(static_cast<unsigned char>(name[i]));
        if (same) {
          auto v = line.substr(colon + 1);
          while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
          return std::string(v);
        }
      }
      pos = end;
    }
    return {};
  }
};

/// Reads one request (head, then Content-Length bytes of body) through `read(buf, n)`.
/// Returns nullopt when the peer closed or failed first, or sent more than `max_bytes`
/// before the end of the head.
template <class Read>
std::optional<raw_request> read_request(Read&& read, std::size_t max_bytes = std::size_t{1} << 20) {
  std::string data;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    long const n = read(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) return std::nullopt;
  }
  raw_request r;
  r.head = data.substr(0, head_end + 4);
  r.body = data.substr(head_end + 4);
  std::size_t const length = std::strtoul(r.header("content-length").c_str(), nullptr, 10);
  while (r.body.size() < length) {
    long const n = read(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    r.body.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

/// Writes all of `bytes` to socket `fd`; false when the peer went away or a write timed out.
inline bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

struct raw_http_server_options {
  std::chrono::seconds io_timeout{2};           ///< each read and write on a connection
  std::size_t max_request_bytes = std::size_t{1} << 20;  ///< a longer head: no answer
  bool keep_requests = true;  ///< keep every request for received(); off for a fuzzer's millions
};

/// A plain-HTTP loopback server that answers every request with the bytes `respond` gives
/// (a complete raw HTTP response, or anything else), then closes the connection. The
/// `writer` form writes the answer itself (e.g. an endless stream), on the socket.
class raw_http_server {
 public:
  using responder = std::function<std::string(raw_request const&)>;
  using writer = std::function<void(int fd, raw_request const&)>;

  explicit raw_http_server(responder respond, raw_http_server_options o = {})
      : raw_http_server(writer([respond = std::move(respond)](int fd, raw_request const& r) {
                          send_all(fd, respond(r));
                        }),
                        o) {}
  explicit raw_http_server(writer write, raw_http_server_options o = {})
      : options_(o), write_(std::move(write)), listener_(o.io_timeout) {
    listener_.start([this](int fd) { serve(fd); });
  }

  std::uint16_t port() const { return listener_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::size_t connections() const { return listener_.connections(); }
  std::size_t requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  /// Every request received (empty unless options.keep_requests).
  std::vector<raw_request> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve(int fd) {
    auto req = read_request([fd](char* b, std::size_t n) { return static_cast<long>(::recv(fd, b, n, 0)); },
                            options_.max_request_bytes);
    if (!req) return;
    {
      std::lock_guard lock(mutex_);
      ++requests_;
      if (options_.keep_requests) received_.push_back(*req);
    }
    write_(fd, *req);
    ::shutdown(fd, SHUT_WR);
    char drain[512];
    while (::recv(fd, drain, sizeof drain, 0) > 0) {
    }
  }

  raw_http_server_options options_;
  writer write_;
  mutable std::mutex mutex_;
  std::size_t requests_ = 0;
  std::vector<raw_request> received_;
  loopback_listener listener_;  // last: stops (joins) before the members above go
};

}  // namespace velt::test
