// Helpers of the hardening tests: a bounded event loop, resource probes (/proc), a raw
// plain-HTTP loopback server whose answers are scripted byte for byte, and a loopback TLS
// server whose protocol versions are chosen by the test.
#pragma once

#include "../support/loopback.hpp"

#include <velt/client.hpp>
#include <velt/mock/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace velt {
/// Delivery values by name in test failure messages.
inline void PrintTo(delivery d, std::ostream* os) {
  *os << (d == delivery::not_sent          ? "not_sent"
          : d == delivery::maybe_delivered ? "maybe_delivered"
                                           : "answered");
}
}  // namespace velt

namespace velt::hardening {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// ---- event loop ---------------------------------------------------------------------------

/// Runs `op` on `io` and fails (throws) if it does not finish within `limit`.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> op, std::chrono::milliseconds limit = 30s) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) value.emplace(std::move(v));
    done = true;
  });
  io.restart();
  io.run_for(limit);
  if (!done) throw std::runtime_error("the operation did not finish in time");
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

// ---- resource probes ------------------------------------------------------------------------

/// Number of open file descriptors of this process.
inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n > 0 ? n - 1 : 0;  // the directory stream's own descriptor
}

/// Resident set size in bytes (/proc/self/statm, second field).
inline std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// A loopback TCP port with nothing listening on it: bound, then closed again.
inline std::uint16_t closed_port() {
  std::uint16_t port = 0;
  int const fd = velt::test::bind_loopback(port, /*backlog=*/0);
  if (fd < 0) throw std::runtime_error("closed_port: cannot bind");
  ::close(fd);
  return port;
}

// ---- loopback listener ----------------------------------------------------------------------

/// A blocking listener on 127.0.0.1:ephemeral, served one connection at a time by a thread.
class loopback_listener {
 public:
  loopback_listener() {
    fd_ = velt::test::bind_loopback(port_, 64);
    if (fd_ < 0) throw std::runtime_error("loopback_listener: cannot listen");
  }
  loopback_listener(loopback_listener const&) = delete;
  loopback_listener& operator=(loopback_listener const&) = delete;
  ~loopback_listener() { stop(); }

  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return connections_.load(); }

  /// Starts serving: `serve(fd)` is called for each accepted socket (then it is closed).
  void start(std::function<void(int)> serve) {
    serve_ = std::move(serve);
    thread_ = std::thread([this] { loop(); });
  }

  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void loop() {
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int const c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      serve_(c);
      ::close(c);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::function<void(int)> serve_;
  std::thread thread_;
};

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
/// Returns nullopt when the peer closed or failed first.
template <class Read>
std::optional<raw_request> read_request(Read&& read) {
  std::string data;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    long const n = read(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > (1u << 20)) return std::nullopt;
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

inline bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// A plain-HTTP loopback server that answers every request with the bytes `respond` gives
/// (a complete raw HTTP response, or anything else), then closes the connection. The
/// `writer` form writes the answer itself (e.g. an endless stream), on the socket.
class raw_http_server {
 public:
  using responder = std::function<std::string(raw_request const&)>;
  using writer = std::function<void(int fd, raw_request const&)>;

  explicit raw_http_server(responder respond)
      : write_([respond = std::move(respond)](int fd, raw_request const& r) {
          send_all(fd, respond(r));
        }) {
    listener_.start([this](int fd) { serve(fd); });
  }
  explicit raw_http_server(writer write) : write_(std::move(write)) {
    listener_.start([this](int fd) { serve(fd); });
  }

  std::uint16_t port() const { return listener_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::size_t connections() const { return listener_.connections(); }
  std::size_t requests() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  std::vector<raw_request> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve(int fd) {
    auto req = read_request([fd](char* b, std::size_t n) { return static_cast<long>(::recv(fd, b, n, 0)); });
    if (!req) return;
    {
      std::lock_guard lock(mutex_);
      received_.push_back(*req);
    }
    write_(fd, *req);
    ::shutdown(fd, SHUT_WR);
    char drain[512];
    while (::recv(fd, drain, sizeof drain, 0) > 0) {
    }
  }

  writer write_;
  mutable std::mutex mutex_;
  std::vector<raw_request> received_;
  loopback_listener listener_;  // last: stops (joins) before the members above go
};

/// "HTTP/1.1 <status>" response with the given extra header lines (each ending CRLF) and body.
inline std::string http_response(unsigned status, std::string const& body,
                                 std::string const& extra_headers = "",
                                 std::string const& content_type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

/// A one-page user-data success body.
inline std::string one_page_body() {
  return R"({"result":{"status":"success","message":"Data fetched successfully.",)"
         R"("data":{"comments":[{"commentId":1,"commentText":"hi"}],"reactions":[],)"
         R"("recordings":[],"notifications":[]}}})";
}

/// Client options for a plain-HTTP loopback peer: small timeouts and fast retries.
inline client_options plain_options(std::string url) {
  client_options o;
  o.base_url = std::move(url);
  o.allow_plain_http = true;
  o.api_key = "hardening-API-KEY-5f3c9e0d";
  o.auth_token = "hardening-AUTH-TOKEN-a7d2b41c";
  o.max_connections = 4;
  o.timeouts.connect = 2s;
  o.timeouts.request = 5s;
  o.timeouts.idle_read = 2s;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  o.retry.max_retry_after = 10ms;
  return o;
}

/// The outcome of one page_stream over all its pages.
struct stream_outcome {
  boost::system::error_code ec;
  error_details error;
  std::size_t pages = 0;
  boost::json::object data;  ///< merged features of the pages delivered
  bool indices_in_order = true;
};

/// Streams every page of `user` (named request: see the g++ 12 note in the README).
inline asio::awaitable<stream_outcome> drain_stream(velt::client c, std::string org,
                                                    std::string user) {
  stream_outcome out;
  user_data_request request{.organization_id = std::move(org), .user_id = std::move(user)};
  page_stream pages = c.async_fetch_all_user_data(std::move(request));
  for (;;) {
    auto [ec, page] = co_await pages.async_next(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      out.ec = ec;
      out.error = pages.last_error();
      break;
    }
    if (!page) break;
    if (page->index() != out.pages) out.indices_in_order = false;
    ++out.pages;
    for (auto const& [key, value] : page->data()) {
      if (!value.is_array()) continue;
      auto& target = out.data[key];
      if (!target.is_array()) target = boost::json::array();
      for (auto const& item : value.as_array()) target.as_array().push_back(item);
    }
  }
  co_return out;
}

/// Streams org-1/user-1 once with a fresh client and io_context.
inline stream_outcome fetch_once(client_options o) {
  asio::io_context io;
  velt::client c(io.get_executor(), std::move(o));
  return run(io, drain_stream(c, "org-1", "user-1"));
}

/// A per-process scratch directory for a test server's certificate files.
inline std::filesystem::path scratch_dir(std::string const& suite) {
  auto dir = std::filesystem::temp_directory_path() /
             ("velt-hardening-" + suite + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

/// Features of `actual` equal `expected` exactly (a missing feature counts as empty).
inline ::testing::AssertionResult same_export(boost::json::object const& expected,
                                              boost::json::object const& actual) {
  for (auto const& [key, value] : expected) {
    auto const* got = actual.if_contains(key);
    if (value.as_array().empty() && (!got || got->as_array().empty())) continue;
    if (!got) return ::testing::AssertionFailure() << "missing feature " << key;
    if (*got != value)
      return ::testing::AssertionFailure() << "feature " << key << ": " << got->as_array().size()
                                           << " items, expected " << value.as_array().size();
  }
  for (auto const& [key, value] : actual)
    if (!expected.contains(key) && !value.as_array().empty())
      return ::testing::AssertionFailure() << "unexpected feature " << key;
  return ::testing::AssertionSuccess();
}

/// Every feature of `actual` is a prefix of the same feature of `expected`: nothing
/// duplicated, nothing out of order, nothing invented (a stream that ended early).
inline ::testing::AssertionResult is_prefix_export(boost::json::object const& expected,
                                                   boost::json::object const& actual) {
  for (auto const& [key, value] : actual) {
    auto const& got = value.as_array();
    auto const* want = expected.if_contains(key);
    if (!want) {
      if (got.empty()) continue;
      return ::testing::AssertionFailure() << "unexpected feature " << key;
    }
    auto const& w = want->as_array();
    if (got.size() > w.size())
      return ::testing::AssertionFailure() << "feature " << key << " has " << got.size()
                                           << " items, more than the " << w.size() << " expected";
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != w[i])
        return ::testing::AssertionFailure() << "feature " << key << " differs at item " << i;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace velt::hardening
