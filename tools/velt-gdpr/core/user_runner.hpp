// user_runner.hpp: one coroutine per user, a bounded number at a time, stoppable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace velt::gdpr {

/// Pulls users from a source and runs `work(user)` for each, at most `concurrency` at
/// once, each coroutine on its own strand of `io`. `stop()` starts no new user and sends
/// every running one a terminal cancellation (an `async_*` it awaits completes with
/// `operation_aborted`). Memory is bounded by the concurrency: users are pulled only when
/// a slot is free.
class user_runner {
 public:
  /// Returns the next user or std::nullopt at the end. Called on `blocking` (it may read
  /// a file or stat one), one call at a time.
  using next_function = std::function<std::optional<std::string>()>;
  using work_function = std::function<boost::asio::awaitable<void>(std::string)>;

  user_runner(boost::asio::io_context& io, boost::asio::any_io_executor blocking,
              std::size_t concurrency);
  ~user_runner();
  user_runner(user_runner const&) = delete;
  user_runner& operator=(user_runner const&) = delete;

  /// Starts pulling. `done` runs (on the runner's strand) once when the source is exhausted
  /// or stopped and no user coroutine is left. Call once. `max_batch`: how many users one
  /// trip to the blocking executor may pull (up to the free slots); keep 1 for a source that
  /// waits for input (a pipe, a terminal), so that each user starts as soon as it arrives.
  void start(next_function next, work_function work, std::function<void()> done,
             std::size_t max_batch = 1);

  /// Stops (thread-safe, idempotent): see the class comment.
  void stop();
  bool stopping() const noexcept { return stopping_.load(); }

  /// The exception that ended the source (e.g. a users file that could not be read).
  std::exception_ptr source_error() const { return source_error_; }
  /// A work coroutine that ended with an exception (they should not).
  std::exception_ptr work_error() const { return work_error_; }

  std::size_t in_flight() const noexcept { return in_flight_count_.load(); }

  /// The strand the runner's own bookkeeping runs on.
  boost::asio::strand<boost::asio::io_context::executor_type> const& strand() const { return control_; }

 private:
  struct active {
    explicit active(boost::asio::strand<boost::asio::io_context::executor_type> s) : strand(std::move(s)) {}
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    boost::asio::cancellation_signal signal;
  };
  static boost::asio::awaitable<void> feed(user_runner* self);
  void launch(std::string user);
  void finished(std::shared_ptr<active> const& a, std::exception_ptr e);
  void maybe_done();

  boost::asio::io_context& io_;
  boost::asio::any_io_executor blocking_;
  boost::asio::strand<boost::asio::io_context::executor_type> control_;
  boost::asio::steady_timer slot_timer_;
  std::size_t concurrency_;
  next_function next_;
  std::size_t max_batch_ = 1;
  work_function work_;
  std::function<void()> done_;
  std::set<std::shared_ptr<active>> active_;  // on control_
  std::size_t in_flight_ = 0;                 // on control_
  std::atomic<std::size_t> in_flight_count_{0};
  bool feeding_ = false;                      // on control_
  bool done_called_ = false;                  // on control_
  std::atomic<bool> stopping_{false};
  std::exception_ptr source_error_;
  std::exception_ptr work_error_;
};

}  // namespace velt::gdpr
