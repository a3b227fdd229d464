// SPDX-License-Identifier: BSL-1.0
// loopback.hpp: a TCP socket on 127.0.0.1 and an ephemeral port, and a listener that serves
// its connections one at a time on a thread, for the tests' hand-made servers (the
// hardening tests' raw HTTP and TLS servers, the fuzzed HTTP server). Header-only, POSIX.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace velt::test {

/// A TCP socket bound to 127.0.0.1 on an ephemeral port, listening when `backlog` > 0.
/// Returns the descriptor and sets `port`; returns -1 when any step fails.
inline int bind_loopback(std::uint16_t& port, int backlog) {
  int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (backlog > 0 && ::listen(fd, backlog) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

/// Connects to 127.0.0.1:`port` every 10 ms until a connection is accepted (true), up to
/// `limit`; false at once when `gone()` says the program meant to listen has exited. For the
/// tests that start a real server (nginx, tinyproxy) and wait for it to listen.
inline bool wait_until_accepting(std::uint16_t port, std::function<bool()> const& gone,
                                 std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto const end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (gone()) return false;
    int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool const ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// A blocking listener on 127.0.0.1:ephemeral, served one connection at a time by a thread.
/// Each accepted socket reads and writes with `io_timeout` (SO_RCVTIMEO, SO_SNDTIMEO).
class loopback_listener {
 public:
  explicit loopback_listener(std::chrono::seconds io_timeout = std::chrono::seconds(2)) : io_timeout_(io_timeout) {
    fd_ = bind_loopback(port_, 64);
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
      timeval tv{static_cast<time_t>(io_timeout_.count()), 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      serve_(c);
      ::close(c);
    }
  }

  std::chrono::seconds io_timeout_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::function<void(int)> serve_;
  std::thread thread_;
};

}  // namespace velt::test
