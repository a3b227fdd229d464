// SPDX-License-Identifier: BSL-1.0
// A counting semaphore for coroutines that serves waiters strictly in arrival order.
// The connection pool uses it to cap open connections and hand them out first come,
// first served, and (weighted) to bound the bytes of response bodies being read at once.
// Thread-safe; waiters may run on different strands.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace velt::detail {

class fifo_semaphore {
 public:
  explicit fifo_semaphore(std::size_t permits) : available_(permits) {}

  /// Takes `n` permits at once (n <= the initial count), waiting in FIFO order: a later,
  /// smaller request never overtakes an earlier one. Completes with `operation_aborted`
  /// when the awaiting coroutine is cancelled while waiting (nothing is then held).
  /// Past `deadline` it completes with `boost::asio::error::timed_out` instead.
  boost::asio::awaitable<boost::system::error_code> async_acquire(
      std::size_t n = 1,
      boost::asio::steady_timer::time_point deadline = boost::asio::steady_timer::time_point::max());

  /// Returns `n` permits: grants waiters, oldest first, while they fit.
  void release(std::size_t n = 1);

  std::size_t waiting() const;
  std::size_t available() const;

 private:
  struct waiter {
    waiter(boost::asio::any_io_executor ex, std::size_t n) : timer(std::move(ex)), need(n) {}
    boost::asio::steady_timer timer;
    std::size_t need;
    bool granted = false;
  };
  // Grants queued waiters, oldest first, while they fit (mutex_ held); returns them to wake.
  std::vector<std::shared_ptr<waiter>> grant_waiters();
  static void wake(std::vector<std::shared_ptr<waiter>> granted);
  mutable std::mutex mutex_;
  std::size_t available_;
  std::deque<std::shared_ptr<waiter>> queue_;
};

/// Releases held permits when it goes out of scope (coroutine frames included).
class permit {
 public:
  permit() = default;
  explicit permit(fifo_semaphore& s, std::size_t n = 1) : sem_(&s), n_(n) {}
  permit(permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)), n_(o.n_) {}
  permit& operator=(permit&& o) noexcept {
    if (this != &o) {
      if (sem_) sem_->release(n_);
      sem_ = std::exchange(o.sem_, nullptr);
      n_ = o.n_;
    }
    return *this;
  }
  ~permit() {
    if (sem_) sem_->release(n_);
  }

 private:
  fifo_semaphore* sem_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace velt::detail
