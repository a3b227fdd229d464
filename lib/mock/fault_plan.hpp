// SPDX-License-Identifier: BSL-1.0
// Which faults a request gets: matching by user, page, request number, endpoint and a
// deterministic probability draw, with per-fault firing limits. Sans-I/O: no sockets, no
// clock; thread-safe.
#pragma once

#include <velt/mock/options.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace velt::mock::detail {

/// What is known of a request when faults are decided.
struct request_facts {
  std::uint64_t number = 0;                   ///< 1-based, server-wide
  std::optional<wire::endpoint> endpoint;     ///< unset for unknown paths
  std::span<std::string const> users;         ///< users the request names
  std::optional<std::size_t> page;            ///< get-user-data: 0 without token, else the token's index
};

/// What to do with a request.
struct fault_decision {
  std::chrono::milliseconds delay{0};   ///< sum of the latency faults that fired
  std::optional<fault> action;          ///< the first non-latency fault that fired
  std::vector<fault_kind> fired;        ///< every fault that fired (for the counters)
};

class fault_plan {
 public:
  explicit fault_plan(std::uint64_t seed) : seed_(seed) {}

  /// Throws std::invalid_argument for a probability outside [0, 1] or a status outside 100..599.
  void add(fault f);
  void clear();
  /// A latency for every request (0, 0: none).
  void set_latency(std::chrono::milliseconds fixed, std::chrono::milliseconds jitter);

  /// Decides, and counts the firings against max_times.
  fault_decision decide(request_facts const& r);

  /// Whether the filters of `f` select the request (ignores probability and max_times).
  static bool matches(fault const& f, request_facts const& r) noexcept;

 private:
  struct entry {
    fault f;
    std::uint64_t serial = 0;  ///< draws depend on it, not on the position
    std::uint64_t fired = 0;
  };
  std::chrono::milliseconds jittered(std::chrono::milliseconds base, std::chrono::milliseconds jitter,
                                     std::uint64_t serial, std::uint64_t number) const noexcept;

  std::uint64_t const seed_;
  std::mutex mutex_;
  std::vector<entry> entries_;
  std::uint64_t next_serial_ = 1;
  std::chrono::milliseconds base_latency_{0}, base_jitter_{0};
};

}  // namespace velt::mock::detail
