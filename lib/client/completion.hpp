// SPDX-License-Identifier: BSL-1.0
// Bridges an internal coroutine (returning velt::result<T>) to a user's completion handler
// with the signature void(error_code, T), on the handler's own executor.
#pragma once

#include "client/operation_cancellation.hpp"

#include <velt/error.hpp>
#include <velt/wire.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/errc.hpp>

#include <exception>

namespace velt::detail {

template <class T>
struct op_completion {
  using handler_type = boost::asio::any_completion_handler<void(boost::system::error_code, T)>;
  using fallback_executor = boost::asio::strand<boost::asio::any_io_executor>;

  handler_type handler;
  error_details* details;  ///< the caller's, may be null
  fallback_executor fallback;
  std::shared_ptr<operation_cancellation> cancel;  ///< may be null (not cancellable)

  using executor_type = boost::asio::associated_executor_t<handler_type, fallback_executor>;
  executor_type get_executor() const noexcept {
    return boost::asio::get_associated_executor(handler, fallback);
  }

  /// The operation's own signal (the caller's slot is forwarded to it, never handed to
  /// co_spawn: see operation_cancellation.hpp).
  using cancellation_slot_type = boost::asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return cancel ? cancel->signal.slot() : cancellation_slot_type();
  }

  void operator()(std::exception_ptr ep, result<T> r) {
    if (auto slot = handler.get_cancellation_slot(); slot.is_connected()) slot.clear();
    if (ep) {
      // Only allocation failures escape the operations (they turn everything else into
      // error results); report rather than terminate.
      r = make_error_details(make_error_code(boost::system::errc::not_enough_memory),
                             "out of memory");
    }
    if (r) {
      if (details) *details = error_details{};
      std::move(handler)(boost::system::error_code{}, std::move(*r));
    } else {
      if (details) *details = r.error();
      auto const code = r.error().code;
      std::move(handler)(code, T{});
    }
  }
};

}  // namespace velt::detail
