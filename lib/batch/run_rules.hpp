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

/// Tells a refusal of one user from credentials that do not (or no longer) work, from
/// evidence rather than from the first refusals alone. Thread-safe.
///
/// The credentials work once a page of the run arrived, or a probe (a user exported before
/// with them, fetched again) got a page. Then `refusals_that_stop` refusals in a row (no
/// page in between) stop the run; fewer are failures of those users.
/// Before any evidence, a refused user waits for it (`verdict::wait`, then `pending`): a
/// page of another user, or the probe's answer. Without a chance of evidence (no probe, no
/// other user running) or after `early_refusals` refusals in a row with none, the
/// credentials are taken as refused and the run stops. `refusals_that_stop` 0: never stops.
class credential_watch {
 public:
  /// Refusals in a row, before any evidence, that stop the run without waiting for more.
  static constexpr std::size_t early_refusals = 3;

  explicit credential_watch(std::size_t refusals_that_stop) : limit_(refusals_that_stop) {}

  enum class verdict {
    user_failure,  ///< the credentials work: the refusal is about this user
    stop_run,      ///< the credentials are refused: stop the run (the user is not done)
    wait,          ///< no evidence yet: ask `pending` again shortly
  };
  /// A page arrived, or a probe got one: the credentials work.
  void on_page() noexcept;
  /// A probe was refused (PERMISSION_DENIED or UNAUTHENTICATED): the credentials do not work.
  void on_probe_refused() noexcept;
  /// A user ended with a failure of status `s` (counted once per user).
  verdict on_failure(status s) noexcept;
  /// For a user that got `wait`: the verdict now. `evidence_possible`: a probe is in flight
  /// or can start, or another user (not waiting) is running.
  verdict pending(bool evidence_possible) noexcept;
  bool any_page() const noexcept;

 private:
  enum class knowledge { unknown, works, refused };
  mutable std::mutex mutex_;
  std::size_t const limit_;
  knowledge known_ = knowledge::unknown;
  bool pages_ = false;
  std::size_t in_a_row_ = 0;
};

}  // namespace velt::detail
