// SPDX-License-Identifier: BSL-1.0
// The server's counters: lock-free scalars, and maps under a mutex. Thread-safe.
#pragma once

#include <velt/mock/server.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace velt::mock::detail {

class stats_registry {
 public:
  void connection_opened() noexcept;
  void connection_closed() noexcept;
  void handshake(bool resumed) noexcept;
  void handshake_failed() noexcept;
  void idle_closed() noexcept;
  void response_written(std::size_t bytes, bool complete_page) noexcept;
  void response_gzip() noexcept { responses_gzip_.fetch_add(1, std::memory_order_relaxed); }
  /// A request to the media path; `velt_headers`: it carried an `x-velt-*` header.
  void media_request(bool velt_headers) noexcept {
    media_requests_.fetch_add(1, std::memory_order_relaxed);
    if (velt_headers) media_velt_headers_.fetch_add(1, std::memory_order_relaxed);
  }
  /// Body bytes of a media answer about to be written.
  void media_written(std::uint64_t bytes) noexcept { media_bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  /// A request read on an API path (or an unknown path: endpoint unset).
  void request(std::optional<wire::endpoint> e, std::string const* user, std::optional<std::size_t> page);
  void fault_fired(fault_kind k);
  /// A request (or a connection, for outages) refused by a limit: one of server_stats::refused_*.
  void refused(std::uint64_t server_stats::*counter);

  server_stats snapshot() const;
  void reset();

 private:
  std::atomic<std::uint64_t> connections_accepted_{0}, handshakes_full_{0}, handshakes_resumed_{0},
      handshake_failures_{0}, active_{0}, max_active_{0}, idle_closes_{0}, pages_served_{0},
      response_bytes_{0}, responses_gzip_{0}, media_requests_{0}, media_bytes_{0}, media_velt_headers_{0};
  mutable std::mutex mutex_;
  server_stats maps_;  // requests, faults and the maps
};

}  // namespace velt::mock::detail
