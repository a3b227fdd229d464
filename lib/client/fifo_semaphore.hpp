// A counting semaphore for coroutines that serves waiters strictly in arrival order.
// The connection pool uses it to cap open connections and hand them out first come,
// first served. Thread-safe; waiters may run on different strands.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace velt::detail {

class fifo_semaphore {
 public:
  explicit fifo_semaphore(std::size_t permits) : available_(permits) {}

  /// Takes a permit, waiting in FIFO order. Completes with `operation_aborted` when the
  /// awaiting coroutine is cancelled while waiting (no permit is then held).
  boost::asio::awaitable<boost::system::error_code> async_acquire();

  /// Returns a permit: hands it to the oldest waiter, if any.
  void release();

  std::size_t waiting() const;
  std::size_t available() const;

 private:
  struct waiter {
    explicit waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
    bool granted = false;
  };
  mutable std::mutex mutex_;
  std::size_t available_;
  std::deque<std::shared_ptr<waiter>> queue_;
};

/// Releases a held permit when it goes out of scope (coroutine frames included).
class permit {
 public:
  permit() = default;
  explicit permit(fifo_semaphore& s) : sem_(&s) {}
  permit(permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
  permit& operator=(permit&&) = delete;
  ~permit() {
    if (sem_) sem_->release();
  }

 private:
  fifo_semaphore* sem_ = nullptr;
};

}  // namespace velt::detail
