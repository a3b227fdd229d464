// SPDX-License-Identifier: BSL-1.0
#include "request_recorder.hpp"

#include <utility>

namespace velt::mock::detail {

void request_recorder::record(recorded_request r) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (kept_.size() == capacity_) kept_.pop_front();
  kept_.push_back(std::move(r));
}

std::vector<recorded_request> request_recorder::snapshot() const {
  std::lock_guard lock(mutex_);
  return {kept_.begin(), kept_.end()};
}

void request_recorder::clear() {
  std::lock_guard lock(mutex_);
  kept_.clear();
}

}  // namespace velt::mock::detail
