// SPDX-License-Identifier: BSL-1.0
// erase_audit.hpp: what `velt-gdpr erase` writes in the audit log (design note §2.2) and
// the signed erasure receipts of `--receipts` (§6).
//
// An erase_observer in front of the one that prints the JSON lines: it forwards every call,
// then queues the audit events (`deletion_requested` per user, `deletion_failed` per user,
// `deletion_completed` / `deletion_unfinished` per job, `verified` / `unverified` per user).
// For receipts it joins each queued user (a 16-byte digest) to its job; a user verified with
// 0 items, whose job was seen complete, gets `DIR/<id>.json` and `.json.sig`, written on a
// file thread once its `verified` line is durable.
#pragma once

#include "core/audit_trail.hpp"
#include "core/console.hpp"
#include "core/seen_ids.hpp"

#include <velt/batch_erase.hpp>

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace velt::gdpr {

/// `--receipts DIR` with the key that signs them.
struct receipt_settings {
  std::filesystem::path dir;          ///< created 0700 before the run
  std::string organization_id;        ///< the receipts' `organizationIds`
};

/// The audit side of one erase run. Calls come one at a time (velt::erase_observer's rule).
class erase_audit final : public velt::erase_observer {
 public:
  /// `on_failure` is called (from a file thread) when a receipt cannot be written: the run
  /// must stop. With `receipts`, `trail.key()` must be set.
  erase_audit(velt::erase_observer& printer, audit_trail& trail, std::optional<receipt_settings> receipts,
              console& con, std::function<void(std::string const&)> on_failure);
  ~erase_audit() override;

  void on_queued(std::vector<std::string> const& users, velt::delete_job const& job) override;
  void on_not_queued(std::vector<std::string> const& users, velt::error_details const& error) override;
  void on_completed(std::string const& job_id, velt::delete_status const& status) override;
  void on_unfinished(std::string const& job_id, velt::error_details const& error) override;
  void on_verified(std::string const& user, velt::user_verification const& v) override;
  void on_remaining(std::string const& user, std::map<std::string, std::uint64_t> const& items) override;
  void on_unverified(std::string const& user, velt::error_details const& error) override;

  /// A user id that was not sent (not valid UTF-8, ...): `deletion_failed`, nothing queued.
  void refused_id(std::string const& user);

  /// Waits for the receipts being written. Call before `audit_trail::end`.
  void finish_receipts();
  /// Receipts written so far.
  std::uint64_t receipts() const noexcept { return receipts_written_.load(); }

 private:
  struct job {
    std::string id;
    std::size_t users = 0;
    std::chrono::system_clock::time_point requested_at;
    std::optional<std::chrono::system_clock::time_point> completed_at;
    std::optional<std::int64_t> last_task_completed_time;
  };
  struct digest_hash {
    std::size_t operator()(id_digest const& d) const noexcept { return static_cast<std::size_t>(d.lo ^ d.hi); }
  };
  job* find_job(std::string const& id);
  void write_receipt_later(std::string const& user, job const& j, std::uint64_t pages, std::uint64_t ticket);

  velt::erase_observer& printer_;
  audit_trail& trail_;
  std::optional<receipt_settings> receipts_;
  console& con_;
  std::function<void(std::string const&)> on_failure_;
  std::vector<job> jobs_;                                   ///< in the order queued
  std::unordered_map<std::string, std::size_t> job_index_;  ///< job id -> index in jobs_
  /// With receipts: queued user (digest) -> index in jobs_.
  std::unordered_map<id_digest, std::uint32_t, digest_hash> user_job_;
  std::optional<boost::asio::thread_pool> files_;           ///< with receipts: writes them
  std::atomic<std::uint64_t> receipts_written_{0};
};

}  // namespace velt::gdpr
