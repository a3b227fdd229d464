// SPDX-License-Identifier: BSL-1.0
#include "batch/run_rules.hpp"

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
  any_page_ = true;
  in_a_row_ = 0;
}

credential_watch::verdict credential_watch::on_failure(status s) noexcept {
  if (limit_ == 0 || !is_refusal(s)) return verdict::user_failure;
  std::lock_guard lock(mutex_);
  ++in_a_row_;
  if (!any_page_ || in_a_row_ >= limit_) return verdict::stop_run;
  return verdict::user_failure;
}

bool credential_watch::any_page() const noexcept {
  std::lock_guard lock(mutex_);
  return any_page_;
}

}  // namespace velt::detail
