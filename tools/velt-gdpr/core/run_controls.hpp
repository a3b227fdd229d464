// SPDX-License-Identifier: BSL-1.0
// run_controls.hpp: what every long-running command shares: stopping on SIGINT/SIGTERM,
// and a progress line redrawn as the run goes.
#pragma once

#include "core/console.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace velt::gdpr {

/// The first SIGINT or SIGTERM calls `on_first(signal)` (on `ex`); a second one exits the
/// process at once with 128 + signal (the next run resumes from what is durable).
class stop_signals {
 public:
  stop_signals(boost::asio::any_io_executor ex, std::function<void(int)> on_first);
  /// Stops listening (the run is over). On `ex`.
  void cancel();
  /// The signal received, 0 if none. Any thread.
  int received() const noexcept { return state_->received.load(); }

 private:
  struct state {
    explicit state(boost::asio::any_io_executor ex) : set(ex) {}
    boost::asio::signal_set set;
    std::function<void(int)> on_first;
    std::atomic<int> received{0};
  };
  std::shared_ptr<state> state_;
};

/// Redraws `line()` on the console every 250 ms on a terminal, every 5 s otherwise, while
/// the console shows progress; `stop` ends it (after drawing the final state once more when
/// `final_line`).
class progress_ticker {
 public:
  progress_ticker(boost::asio::any_io_executor ex, console& con, std::function<std::string()> line);
  /// On `ex`.
  void stop(bool final_line = true);

 private:
  struct state {
    explicit state(boost::asio::any_io_executor ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    console* con = nullptr;
    std::function<std::string()> line;
    bool stopped = false;
  };
  std::shared_ptr<state> state_;
};

}  // namespace velt::gdpr
