#include "client/fifo_semaphore.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace velt::detail {
namespace asio = boost::asio;

asio::awaitable<boost::system::error_code> fifo_semaphore::async_acquire() {
  auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<waiter> w;
  {
    std::lock_guard lock(mutex_);
    if (available_ > 0 && queue_.empty()) {
      --available_;
      co_return boost::system::error_code{};
    }
    w = std::make_shared<waiter>(ex);
    w->timer.expires_at(asio::steady_timer::time_point::max());
    queue_.push_back(w);
  }
  // Woken by release() (which cancels the timer through the waiter's own executor) or by
  // cancellation of this coroutine.
  (void)co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(mutex_);
  if (w->granted) co_return boost::system::error_code{};
  queue_.erase(std::remove(queue_.begin(), queue_.end(), w), queue_.end());
  co_return make_error_code(asio::error::operation_aborted);
}

void fifo_semaphore::release() {
  std::shared_ptr<waiter> w;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      ++available_;
      return;
    }
    w = std::move(queue_.front());
    queue_.pop_front();
    w->granted = true;
  }
  auto ex = w->timer.get_executor();
  asio::post(ex, [w = std::move(w)] { w->timer.cancel(); });
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
