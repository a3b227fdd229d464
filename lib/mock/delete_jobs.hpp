// SPDX-License-Identifier: BSL-1.0
// Deletion jobs: `delete` queues a job of N tasks that complete one after another, each
// taking a fixed time; once the last completes, the job's users have no data in the
// organization. Sans-I/O (the caller passes the time); thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace velt::mock::detail {

class delete_registry {
 public:
  using clock = std::chrono::system_clock;

  /// Jobs delete data of `organization_id`, the data set's one organization.
  delete_registry(std::uint64_t seed, std::string organization_id, std::size_t tasks,
                  std::chrono::milliseconds task_duration);

  /// Queues a job; returns its id (20 letters, like Velt's). An empty `organization_ids`
  /// means every organization.
  std::string queue(std::vector<std::string> const& user_ids,
                    std::vector<std::string> const& organization_ids, clock::time_point now);

  struct progress {
    bool completed = false;
    std::size_t tasks_left = 0;
    std::optional<std::int64_t> last_task_completed_ms;  ///< epoch ms; none before the first task
  };
  /// The progress of a job, or nothing for an unknown id.
  std::optional<progress> status(std::string_view job_id, clock::time_point now) const;

  /// Whether a completed job has deleted the user's data.
  bool is_deleted(std::string_view user_id, clock::time_point now) const;

  std::size_t tasks() const noexcept { return tasks_; }

 private:
  struct job {
    clock::time_point created;
    std::size_t tasks = 0;
  };

  std::uint64_t const seed_;
  std::string const organization_id_;
  std::size_t const tasks_;
  std::chrono::milliseconds const task_duration_;

  mutable std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  std::unordered_map<std::string, job> jobs_;
  std::unordered_map<std::string, clock::time_point> deleted_at_;  // user -> completion time
};

}  // namespace velt::mock::detail
