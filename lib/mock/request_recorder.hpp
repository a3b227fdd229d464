// SPDX-License-Identifier: BSL-1.0
// The last N API requests' `data` objects, for tests that check what a client sent
// (server_options::recorded_requests). Thread-safe.
#pragma once

#include <velt/mock/server.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace velt::mock::detail {

class request_recorder {
 public:
  /// Keeps at most `capacity` requests (0: keeps none, and `record` is never called).
  explicit request_recorder(std::size_t capacity) : capacity_(capacity) {}

  bool enabled() const noexcept { return capacity_ > 0; }
  /// Adds a request, dropping the oldest when full.
  void record(recorded_request r);
  /// The requests kept, oldest first.
  std::vector<recorded_request> snapshot() const;
  void clear();

 private:
  std::size_t const capacity_;
  mutable std::mutex mutex_;
  std::deque<recorded_request> kept_;
};

}  // namespace velt::mock::detail
