// SPDX-License-Identifier: BSL-1.0
#include "client/fifo_semaphore.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace velt::detail {
namespace asio = boost::asio;

asio::awaitable<boost::system::error_code> fifo_semaphore::async_acquire(
    std::size_t n, asio::steady_timer::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<waiter> w;
  {
    std::lock_guard lock(mutex_);
    if (available_ >= n && queue_.empty()) {
      available_ -= n;
      co_return boost::system::error_code{};
    }
    w = std::make_shared<waiter>(ex, n);
    w->timer.expires_at(deadline);
    queue_.push_back(w);
  }
  // Woken by a release (which cancels the timer through the waiter's own executor), by
  // cancellation of this coroutine, or by the deadline (the timer expires).
  auto const [ec] = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::vector<std::shared_ptr<waiter>> granted;
  {
    std::lock_guard lock(mutex_);
    if (w->granted) co_return boost::system::error_code{};
    queue_.erase(std::remove(queue_.begin(), queue_.end(), w), queue_.end());
    // Leaving may unblock the waiters behind (a large request at the head held them up).
    granted = grant_waiters();
  }
  wake(std::move(granted));
  co_return make_error_code(ec ? asio::error::operation_aborted : asio::error::timed_out);
}

std::vector<std::shared_ptr<fifo_semaphore::waiter>> fifo_semaphore::grant_waiters() {
  std::vector<std::shared_ptr<waiter>> granted;
  while (!queue_.empty() && queue_.front()->need <= available_) {
    available_ -= queue_.front()->need;
    queue_.front()->granted = true;
    granted.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return granted;
}

void fifo_semaphore::wake(std::vector<std::shared_ptr<waiter>> granted) {
  for (auto& w : granted) {
    auto ex = w->timer.get_executor();
    asio::post(ex, [w = std::move(w)] { w->timer.cancel(); });
  }
}

void fifo_semaphore::release(std::size_t n) {
  std::vector<std::shared_ptr<waiter>> granted;
  {
    std::lock_guard lock(mutex_);
    available_ += n;
    granted = grant_waiters();
  }
  wake(std::move(granted));
}

std::size_t fifo_semaphore::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t fifo_semaphore::available() const {
  std::lock_guard lock(mutex_);
  return available_;
}

}  // namespace velt::detail
