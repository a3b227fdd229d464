// SPDX-License-Identifier: BSL-1.0
// The live counters behind velt::client_stats: lock-free, updated from any thread.
#pragma once

#include <velt/client_options.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace velt::detail {

/// Latencies in logarithmic buckets (about 9 % wide, 1 µs to ~17 min); percentiles are
/// read as the upper edge of the bucket that holds them.
class latency_histogram {
 public:
  void record(std::chrono::microseconds d) noexcept;
  std::chrono::microseconds percentile(double p) const noexcept;
  std::chrono::microseconds max() const noexcept {
    return std::chrono::microseconds(max_.load(std::memory_order_relaxed));
  }

  static constexpr std::size_t bucket_count = 256;
  static std::size_t bucket_of(std::uint64_t micros) noexcept;
  static std::uint64_t upper_edge(std::size_t bucket) noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> max_{0};
};

struct client_counters {
  using counter = std::atomic<std::uint64_t>;
  counter requests{0}, responses{0}, retries{0}, retries_throttled{0}, retries_server{0},
      retries_transport{0}, stale_resends{0}, budget_exhausted{0}, throttled_ms{0},
      bytes_sent{0}, bytes_received{0}, responses_inflated{0}, bytes_inflated{0}, connections_opened{0}, connections_reused{0},
      connections_closed{0}, tls_handshakes_full{0}, tls_handshakes_resumed{0}, pages{0};
  std::atomic<std::size_t> connections_open{0}, connections_idle{0}, connections_open_max{0};

  void connection_opened() noexcept {
    add(connections_opened);
    auto const now = connections_open.fetch_add(1, std::memory_order_relaxed) + 1;
    auto prev = connections_open_max.load(std::memory_order_relaxed);
    while (now > prev &&
           !connections_open_max.compare_exchange_weak(prev, now, std::memory_order_relaxed)) {
    }
  }
  latency_histogram latency;

  static void add(counter& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  client_stats snapshot() const;
};

}  // namespace velt::detail
