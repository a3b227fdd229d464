// SPDX-License-Identifier: BSL-1.0
// run_completion.hpp: completing a batch run on the caller's handler.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

namespace velt::detail {

/// Posted to the run's strand; runs the caller's handler on the handler's associated
/// executor (the run's strand when it has none).
///
/// Keep an any_completion_handler in a std::optional and emplace it, never move-assign it:
/// Boost 1.81's move assignment copies through the converting constructor, wrapping the
/// handler in itself without end.
template <class Result>
struct run_completion {
  boost::asio::any_completion_handler<void(boost::system::error_code, Result)> handler;
  boost::system::error_code ec;
  Result result;
  boost::asio::strand<boost::asio::any_io_executor> fallback;

  using executor_type = boost::asio::associated_executor_t<decltype(handler), decltype(fallback)>;
  executor_type get_executor() const noexcept {
    return boost::asio::get_associated_executor(handler, fallback);
  }
  void operator()() { std::move(handler)(ec, std::move(result)); }
};

}  // namespace velt::detail
