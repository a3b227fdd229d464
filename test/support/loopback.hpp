// loopback.hpp: a TCP socket on 127.0.0.1 and an ephemeral port, for the tests' hand-made
// servers (the hardening listeners, the fuzzed HTTP server). Header-only, POSIX.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

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

}  // namespace velt::test
