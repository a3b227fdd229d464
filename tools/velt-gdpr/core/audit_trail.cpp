// SPDX-License-Identifier: BSL-1.0
#include "core/audit_trail.hpp"

#include <exception>
#include <utility>

namespace velt::gdpr {

using std::chrono::steady_clock;

audit_trail::audit_trail(std::filesystem::path const& file, std::optional<audit::signing_key> key,
                         std::vector<std::string> secrets, audit_policy policy, audit::writer_options options)
    : writer_(audit::log_writer::open(file, options)), key_(std::move(key)), policy_(policy) {
  writer_.forbid(std::move(secrets));
}

audit_trail::~audit_trail() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

audit::line_ref audit_trail::begin(audit::run_info const& info) {
  audit::line_ref const start = writer_.begin_run(info, key());
  writer_.sync();  // the run is on record before its first request
  started_ = true;
  thread_ = std::thread([this] { loop(); });
  return start;
}

std::uint64_t audit_trail::record(std::string name, boost::json::object members) {
  std::unique_lock lock(mutex_);
  space_.wait(lock, [this] { return queue_.size() < policy_.queue_limit || failure_reported_ || stopping_; });
  if (failure_ || stopping_ || !started_) return 0;
  queue_.push_back(audit::event{std::move(name), std::move(members)});
  std::uint64_t const ticket = ++enqueued_;
  lock.unlock();
  work_.notify_one();
  return ticket;
}

bool audit_trail::wait_durable(std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  if (ticket == 0) return false;
  if (ticket > wanted_) wanted_ = ticket;
  work_.notify_one();
  durable_changed_.wait(lock, [&] { return durable_ >= ticket || failure_reported_; });
  return durable_ >= ticket;
}

void audit_trail::fail(std::string what) {
  {
    std::lock_guard lock(mutex_);
    if (failure_) return;
    failure_ = what;  // from now on, events are dropped
    queue_.clear();
  }
  // The run learns of the failure (and starts stopping) before any waiter is released.
  if (on_failure_) on_failure_(what);
  {
    std::lock_guard lock(mutex_);
    failure_reported_ = true;
  }
  space_.notify_all();
  durable_changed_.notify_all();
}

void audit_trail::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    std::uint64_t const unsynced = written_ - durable_;
    bool const sync_due = unsynced > 0 && (unsynced >= policy_.sync_lines || wanted_ > durable_ || stopping_ ||
                                           steady_clock::now() >= first_unsynced_ + policy_.sync_delay);
    if (failure_ || (stopping_ && queue_.empty() && unsynced == 0)) return;
    if (queue_.empty() && !sync_due) {
      if (unsynced > 0) {
        work_.wait_until(lock, first_unsynced_ + policy_.sync_delay);
      } else {
        work_.wait(lock);
      }
      continue;
    }
    std::vector<audit::event> batch(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    space_.notify_all();
    try {
      if (!batch.empty()) writer_.append(batch);
    } catch (std::exception const& e) {
      fail(std::string("cannot write the audit log: ") + e.what());
      return;
    }
    lock.lock();
    if (!batch.empty()) {
      if (written_ == durable_) first_unsynced_ = steady_clock::now();
      written_ += batch.size();
    }
    std::uint64_t const now_unsynced = written_ - durable_;
    bool const sync_now = now_unsynced > 0 && (now_unsynced >= policy_.sync_lines || wanted_ > durable_ ||
                                               (stopping_ && queue_.empty()) ||
                                               steady_clock::now() >= first_unsynced_ + policy_.sync_delay);
    if (!sync_now) continue;
    std::uint64_t const covered = written_;
    lock.unlock();
    try {
      writer_.sync();
    } catch (std::exception const& e) {
      fail(std::string("cannot sync the audit log: ") + e.what());
      return;
    }
    lock.lock();
    durable_ = covered;
    ++syncs_;
    durable_changed_.notify_all();
  }
}

std::optional<audit::line_ref> audit_trail::end(std::string_view state, int exit_status,
                                                boost::json::object const& counts) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (failure()) return std::nullopt;
  try {
    return writer_.end_run(state, exit_status, counts);  // syncs
  } catch (std::exception const& e) {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::string("cannot write the audit log: ") + e.what();
    return std::nullopt;
  }
}

std::optional<std::string> audit_trail::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::uint64_t audit_trail::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

std::string describe_open_failure(audit::error const& e) {
  std::string what = std::string("--audit-log: ") + e.what();
  if (e.kind() == audit::error_kind::tampered_tail) what += "; see velt-gdpr audit verify";
  if (e.kind() == audit::error_kind::lock_timeout) what += " (another run holds it)";
  return what;
}

}  // namespace velt::gdpr
