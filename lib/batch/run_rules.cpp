// SPDX-License-Identifier: BSL-1.0
#include "batch/run_rules.hpp"

#include <algorithm>

namespace velt::detail {

bool is_refusal(status s) noexcept {
  return s == status::permission_denied || s == status::unauthenticated;
}

bool is_token_rejection(status s) noexcept {
  return s == status::invalid_argument || s == status::not_found ||
         s == status::failed_precondition || s == status::out_of_range;
}

void credential_watch::on_page() noexcept {
  std::lock_guard lock(mutex_);
  pages_ = true;
  if (known_ == knowledge::unknown) known_ = knowledge::works;
  in_a_row_ = 0;
}

void credential_watch::on_probe_refused() noexcept {
  std::lock_guard lock(mutex_);
  if (known_ == knowledge::unknown) known_ = knowledge::refused;
}

credential_watch::verdict credential_watch::on_failure(status s) noexcept {
  if (limit_ == 0 || !is_refusal(s)) return verdict::user_failure;
  std::lock_guard lock(mutex_);
  ++in_a_row_;
  switch (known_) {
    case knowledge::refused:
      return verdict::stop_run;
    case knowledge::works:
      if (in_a_row_ < limit_) return verdict::user_failure;
      known_ = knowledge::refused;
      return verdict::stop_run;
    case knowledge::unknown:
      if (in_a_row_ >= std::min(limit_, early_refusals)) {
        known_ = knowledge::refused;
        return verdict::stop_run;
      }
      return verdict::wait;
  }
  return verdict::wait;
}

credential_watch::verdict credential_watch::pending(bool evidence_possible) noexcept {
  std::lock_guard lock(mutex_);
  switch (known_) {
    case knowledge::works: return verdict::user_failure;
    case knowledge::refused: return verdict::stop_run;
    case knowledge::unknown:
      if (evidence_possible) return verdict::wait;
      known_ = knowledge::refused;
      return verdict::stop_run;
  }
  return verdict::wait;
}

bool credential_watch::any_page() const noexcept {
  std::lock_guard lock(mutex_);
  return pages_;
}

}  // namespace velt::detail
