// SPDX-License-Identifier: BSL-1.0
#include "client/client_counters.hpp"

#include <bit>
#include <cmath>

namespace velt::detail {

// Bucket b covers (upper_edge(b-1), upper_edge(b)]: 8 sub-buckets per power of two.
std::size_t latency_histogram::bucket_of(std::uint64_t micros) noexcept {
  if (micros < 8) return static_cast<std::size_t>(micros);
  unsigned const exp = static_cast<unsigned>(std::bit_width(micros)) - 1;  // >= 3
  std::uint64_t const sub = (micros >> (exp - 3)) & 7u;
  std::size_t const b = 8 + (exp - 3) * 8 + static_cast<std::size_t>(sub);
  return b < bucket_count ? b : bucket_count - 1;
}

std::uint64_t latency_histogram::upper_edge(std::size_t bucket) noexcept {
  if (bucket < 8) return bucket;
  std::size_t const exp = (bucket - 8) / 8 + 3;
  std::uint64_t const sub = (bucket - 8) % 8;
  if (exp >= 63) return UINT64_MAX;
  return ((8 + sub + 1) << (exp - 3)) - 1;
}

void latency_histogram::record(std::chrono::microseconds d) noexcept {
  auto const v = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
  buckets_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  auto prev = max_.load(std::memory_order_relaxed);
  while (v > prev && !max_.compare_exchange_weak(prev, v, std::memory_order_relaxed)) {
  }
}

std::chrono::microseconds latency_histogram::percentile(double p) const noexcept {
  std::uint64_t total = 0;
  for (auto const& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return std::chrono::microseconds(0);
  auto const rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank && seen > 0) {
      auto const edge = std::min(upper_edge(i), static_cast<std::uint64_t>(max().count()));
      return std::chrono::microseconds(static_cast<std::int64_t>(edge));
    }
  }
  return max();
}

client_stats client_counters::snapshot() const {
  auto get = [](counter const& c) { return c.load(std::memory_order_relaxed); };
  client_stats s;
  s.requests = get(requests);
  s.responses = get(responses);
  s.retries = get(retries);
  s.retries_throttled = get(retries_throttled);
  s.retries_server = get(retries_server);
  s.retries_transport = get(retries_transport);
  s.stale_resends = get(stale_resends);
  s.budget_exhausted = get(budget_exhausted);
  s.time_throttled = std::chrono::milliseconds(get(throttled_ms));
  s.bytes_sent = get(bytes_sent);
  s.bytes_received = get(bytes_received);
  s.responses_inflated = get(responses_inflated);
  s.bytes_inflated = get(bytes_inflated);
  s.connections_opened = get(connections_opened);
  s.connections_reused = get(connections_reused);
  s.connections_closed = get(connections_closed);
  s.tls_handshakes_full = get(tls_handshakes_full);
  s.tls_handshakes_resumed = get(tls_handshakes_resumed);
  s.pages = get(pages);
  s.connections_open = connections_open.load(std::memory_order_relaxed);
  s.connections_idle = connections_idle.load(std::memory_order_relaxed);
  s.connections_open_max = connections_open_max.load(std::memory_order_relaxed);
  s.latency_p50 = latency.percentile(0.50);
  s.latency_p90 = latency.percentile(0.90);
  s.latency_p99 = latency.percentile(0.99);
  s.latency_max = latency.max();
  return s;
}

}  // namespace velt::detail
