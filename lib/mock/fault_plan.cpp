// SPDX-License-Identifier: BSL-1.0
#include "fault_plan.hpp"

#include "rng.hpp"

#include <algorithm>
#include <stdexcept>

namespace velt::mock::detail {

void fault_plan::add(fault f) {
  if (!(f.probability >= 0.0 && f.probability <= 1.0)) {
    throw std::invalid_argument("fault probability must be in [0, 1]");
  }
  if (f.http_status < 100 || f.http_status > 599) {
    throw std::invalid_argument("fault http_status must be in 100..599");
  }
  if (f.latency.count() < 0 || f.jitter.count() < 0) {
    throw std::invalid_argument("fault latency and jitter must not be negative");
  }
  std::lock_guard lock(mutex_);
  entries_.push_back(entry{std::move(f), next_serial_++, 0});
}

void fault_plan::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

void fault_plan::set_latency(std::chrono::milliseconds fixed, std::chrono::milliseconds jitter) {
  std::lock_guard lock(mutex_);
  base_latency_ = std::max(fixed, std::chrono::milliseconds{0});
  base_jitter_ = std::max(jitter, std::chrono::milliseconds{0});
}

bool fault_plan::matches(fault const& f, request_facts const& r) noexcept {
  if (f.nth_request && *f.nth_request != r.number) return false;
  if (f.endpoint && (!r.endpoint || *f.endpoint != *r.endpoint)) return false;
  if (f.page_index && (!r.page || *f.page_index != *r.page)) return false;
  if (f.user_id && std::find(r.users.begin(), r.users.end(), *f.user_id) == r.users.end()) return false;
  return true;
}

std::chrono::milliseconds fault_plan::jittered(std::chrono::milliseconds base, std::chrono::milliseconds jitter,
                                               std::uint64_t serial, std::uint64_t number) const noexcept {
  if (jitter.count() <= 0) return base;
  auto const h = hash_combine(hash_combine(hash_combine(seed_, serial), number), 0x717e);
  return base + std::chrono::milliseconds{static_cast<std::int64_t>(h % (static_cast<std::uint64_t>(jitter.count()) + 1))};
}

fault_decision fault_plan::decide(request_facts const& r) {
  fault_decision d;
  std::lock_guard lock(mutex_);
  d.delay = jittered(base_latency_, base_jitter_, 0, r.number);
  for (auto& e : entries_) {
    if (e.f.kind != fault_kind::latency && d.action) continue;  // one action per request
    if (e.f.max_times && e.fired >= *e.f.max_times) continue;
    if (!matches(e.f, r)) continue;
    if (e.f.probability < 1.0) {
      double const draw = unit_interval(hash_combine(hash_combine(seed_, e.serial), r.number));
      if (!(draw < e.f.probability)) continue;
    }
    ++e.fired;
    d.fired.push_back(e.f.kind);
    if (e.f.kind == fault_kind::latency) {
      d.delay += jittered(e.f.latency, e.f.jitter, e.serial, r.number);
    } else {
      d.action = e.f;
    }
  }
  return d;
}

}  // namespace velt::mock::detail
