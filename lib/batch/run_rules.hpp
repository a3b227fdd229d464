// SPDX-License-Identifier: BSL-1.0
// run_rules.hpp: the decisions of a batch run that need no I/O, each testable alone.
#pragma once

#include <velt/error.hpp>

#include <cstddef>
#include <mutex>

namespace velt::detail {

/// PERMISSION_DENIED or UNAUTHENTICATED: the server refuses the caller, maybe for one user
/// only, maybe for every user (revoked credentials).
bool is_refusal(status s) noexcept;

/// Statuses with which a server rejects a saved page token: the user starts over.
bool is_token_rejection(status s) noexcept;

/// Tells a refusal of one user from credentials that do not (or no longer) work. Before any
/// page of the run arrived, a refusal stops the run; after, `refusals_that_stop` refusals
/// in a row (no page in between) do. 0: never stops. Thread-safe.
class credential_watch {
 public:
  explicit credential_watch(std::size_t refusals_that_stop) : limit_(refusals_that_stop) {}

  /// A page arrived: the credentials work.
  void on_page() noexcept;
  enum class verdict { user_failure, stop_run };
  /// A user ended with a failure of status `s`.
  verdict on_failure(status s) noexcept;
  bool any_page() const noexcept;

 private:
  mutable std::mutex mutex_;
  std::size_t const limit_;
  bool any_page_ = false;
  std::size_t in_a_row_ = 0;
};

}  // namespace velt::detail
