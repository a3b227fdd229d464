// SPDX-License-Identifier: BSL-1.0
// Cancellation of one running operation, decoupled from the caller's cancellation slot.
//
// Boost 1.81's co_spawn installs its cancellation handler into whatever slot it is given
// and leaves it there after the coroutine ends; a cancellation emitted on that slot just
// as (or after) the operation completes then reaches freed coroutine state. So the
// coroutine listens to a signal we own (kept alive by shared ownership), the caller's slot
// is forwarded to it through the operation's strand, and forwarding stops once the
// operation has finished (the `running` flag, touched only on the strand). The caller's
// slot is cleared before the caller's handler runs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <memory>

namespace velt::detail {

struct operation_cancellation {
  explicit operation_cancellation(boost::asio::strand<boost::asio::any_io_executor> s)
      : strand(std::move(s)) {}

  boost::asio::strand<boost::asio::any_io_executor> strand;
  boost::asio::cancellation_signal signal;  ///< the running coroutine's slot; strand only
  bool running = false;                     ///< strand only

  /// Requests cancellation from any thread; a no-op once the operation has finished.
  static void request(std::shared_ptr<operation_cancellation> const& self,
                      boost::asio::cancellation_type type) {
    boost::asio::post(self->strand, [self, type] {
      if (self->running) self->signal.emit(type);
    });
  }

  /// Forwards `user_slot` (if connected) to this operation.
  static void forward(std::shared_ptr<operation_cancellation> const& self,
                      boost::asio::cancellation_slot user_slot) {
    if (!user_slot.is_connected()) return;
    user_slot.assign([self](boost::asio::cancellation_type type) { request(self, type); });
  }
};

/// Runs `op` with `c->running` set around it (on the strand the coroutine runs on).
template <class T>
boost::asio::awaitable<T> while_running(std::shared_ptr<operation_cancellation> c,
                                        boost::asio::awaitable<T> op) {
  c->running = true;
  struct reset {
    operation_cancellation* c;
    ~reset() { c->running = false; }
  } on_exit{c.get()};
  co_return co_await std::move(op);
}

}  // namespace velt::detail
