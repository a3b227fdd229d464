// SPDX-License-Identifier: BSL-1.0
// task_group.hpp: at most N coroutines at once on one strand, and a wait for all of them.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <exception>
#include <functional>

namespace velt::detail {

/// Used from one coroutine on a strand (the tasks run on the same strand). The group must
/// outlive its tasks: await `async_all_done` before it goes.
class task_group {
 public:
  task_group(boost::asio::any_io_executor ex, std::size_t limit)
      : ex_(std::move(ex)), wake_(ex_), limit_(limit == 0 ? 1 : limit) {}

  /// Waits until fewer than `limit` tasks run.
  boost::asio::awaitable<void> async_free_slot() {
    while (running_ >= limit_) co_await sleep();
  }

  /// Starts `task`; `then` runs (on the strand) when it has ended.
  void spawn(boost::asio::awaitable<void> task, std::function<void()> then = {}) {
    ++running_;
    boost::asio::co_spawn(ex_, std::move(task), [this, then = std::move(then)](std::exception_ptr e) {
      if (e && !error_) error_ = e;
      if (then) then();
      --running_;
      wake_.cancel();
    });
  }

  /// Waits until every task has ended; rethrows the first exception one of them threw.
  boost::asio::awaitable<void> async_all_done() {
    while (running_ > 0) co_await sleep();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  boost::asio::awaitable<void> sleep() {
    wake_.expires_at(boost::asio::steady_timer::time_point::max());
    (void)co_await wake_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  boost::asio::any_io_executor ex_;
  boost::asio::steady_timer wake_;
  std::size_t limit_;
  std::size_t running_ = 0;
  std::exception_ptr error_;
};

}  // namespace velt::detail
