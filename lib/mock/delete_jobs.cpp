// SPDX-License-Identifier: BSL-1.0
#include "delete_jobs.hpp"

#include "rng.hpp"
#include "text_corpus.hpp"

#include <algorithm>

namespace velt::mock::detail {

delete_registry::delete_registry(std::uint64_t seed, std::string organization_id, std::size_t tasks,
                                 std::chrono::milliseconds task_duration)
    : seed_(seed), organization_id_(std::move(organization_id)), tasks_(tasks),
      task_duration_(std::max(task_duration, std::chrono::milliseconds{0})) {}

std::string delete_registry::queue(std::vector<std::string> const& user_ids,
                                   std::vector<std::string> const& organization_ids,
                                   clock::time_point now) {
  bool const ours = organization_ids.empty() ||
                    std::find(organization_ids.begin(), organization_ids.end(), organization_id_) !=
                        organization_ids.end();
  auto const done = now + task_duration_ * static_cast<std::int64_t>(tasks_);
  std::lock_guard lock(mutex_);
  std::string id;
  do {
    id = make_id(hash_combine(hash_combine(seed_, 0xde1e7e), ++sequence_), 20, true);
  } while (jobs_.count(id) != 0);
  jobs_.emplace(id, job{now, tasks_});
  if (ours) {
    for (auto const& u : user_ids) {
      auto [it, inserted] = deleted_at_.emplace(u, done);
      if (!inserted) it->second = std::min(it->second, done);
    }
  }
  return id;
}

std::optional<delete_registry::progress> delete_registry::status(std::string_view job_id,
                                                                 clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto const it = jobs_.find(std::string(job_id));
  if (it == jobs_.end()) return std::nullopt;
  job const& j = it->second;
  std::size_t done = j.tasks;
  if (task_duration_.count() > 0) {
    auto const elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - j.created);
    done = std::min<std::size_t>(j.tasks, elapsed.count() < 0 ? 0 : static_cast<std::size_t>(elapsed / task_duration_));
  }
  progress p;
  p.completed = done == j.tasks;
  p.tasks_left = j.tasks - done;
  if (done > 0 || j.tasks == 0) {
    auto const t = j.created + task_duration_ * static_cast<std::int64_t>(done);
    p.last_task_completed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }
  return p;
}

bool delete_registry::is_deleted(std::string_view user_id, clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (deleted_at_.empty()) return false;
  auto const it = deleted_at_.find(std::string(user_id));
  return it != deleted_at_.end() && it->second <= now;
}

}  // namespace velt::mock::detail
