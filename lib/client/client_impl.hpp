// SPDX-License-Identifier: BSL-1.0
// The shared state behind velt::client handles, and the request loop (attempts, decoding,
// retry decisions, backoff) every operation goes through.
#pragma once

#include "client/attempt_outcome.hpp"
#include "client/client_counters.hpp"
#include "client/connection_pool.hpp"
#include "client/origin.hpp"
#include "client/retry_policy.hpp"

#include <velt/client.hpp>
#include <velt/wire.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>

namespace velt::detail {

/// A retry observer of one operation (see `fetch_options::on_retry`).
using retry_hook = std::function<void(retry_event const&)>;

/// What one operation changes of the client's defaults (see `fetch_options`).
struct call_tuning {
  retry_hook on_retry;        ///< called before each retry, after `options().on_retry`
  unsigned max_attempts = 0;  ///< 0: `options().retry.max_attempts`
};

/// Runs `fn` on `ex` and resumes the awaiting coroutine on its own executor (the strand of
/// its operation) with the result. `fn` lives in the awaiting coroutine's frame, which stays
/// suspended, and so alive, until the result is handed back. A work guard keeps the
/// coroutine's executor from running out of work meanwhile.
/// An exception from `fn` is rethrown in the coroutine.
template <class Fn>
boost::asio::awaitable<std::optional<std::invoke_result_t<Fn&>>> run_elsewhere(
    boost::asio::any_io_executor ex, Fn& fn) {
  namespace asio = boost::asio;
  using R = std::invoke_result_t<Fn&>;
  return asio::async_initiate<asio::use_awaitable_t<> const, void(std::exception_ptr, std::optional<R>)>(
      [ex](auto handler, Fn* f) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(ex, [h = std::move(handler), f, work = std::move(work)]() mutable {
          std::exception_ptr failure;
          std::optional<R> r;
          try {
            r.emplace((*f)());
          } catch (...) {
            failure = std::current_exception();
          }
          auto home = work.get_executor();
          asio::post(home, [h = std::move(h), failure, r = std::move(r)]() mutable {
            std::move(h)(failure, std::move(r));
          });
        });
      },
      asio::use_awaitable, &fn);
}

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  /// Validates `opts` and throws velt::error naming the offending field.
  client_impl(boost::asio::any_io_executor ex, client_options opts);

  boost::asio::any_io_executor executor() const { return executor_; }
  client_options const& options() const { return options_; }
  client_counters& counters() { return counters_; }
  connection_pool& pool() { return *pool_; }

  void set_auth_token(std::string token);
  /// Masks the API key and the current auth token in `text` (a hostile or buggy server
  /// could echo them in an error message): detail::redact (redaction.hpp) for each.
  void redact(std::string& text) const;
  void log(log_level level, std::string const& line) const;

  /// One API call with retries: encodes nothing, decodes with `decode`, retries what
  /// the policy allows, sleeps between attempts (cancellably), honours `deadline`.
  /// `tuning`, when not null, changes the retry observer and attempts of this call.
  template <class T, class Decode>
  boost::asio::awaitable<result<T>> call(wire::endpoint ep, std::string body, Decode decode,
                                         bool idempotent,
                                         std::optional<clock_type::time_point> deadline,
                                         call_tuning const* tuning = nullptr);

 private:
  request_type make_request(wire::endpoint ep, std::string const& body) const;
  /// Decides about a failed attempt (decide_attempt) and does what goes with the verdict
  /// (counters, on_retry, logging); fills `delay` and returns true to retry, or finalises
  /// `err` (attempts, budget or deadline message) and returns false.
  bool after_failure(error_details& err, unsigned attempt, bool may_resend,
                     std::optional<clock_type::time_point> deadline,
                     std::chrono::milliseconds& delay, call_tuning const* tuning);

  boost::asio::any_io_executor executor_;
  client_options options_;
  origin origin_;
  client_counters counters_;
  retry_budget budget_;
  std::unique_ptr<connection_pool> pool_;
  mutable std::mutex token_mutex_;
  std::shared_ptr<std::string const> auth_token_;
  std::string proxy_password_;  ///< masked like the other secrets; empty: none
};

template <class T, class Decode>
boost::asio::awaitable<result<T>> client_impl::call(
    wire::endpoint ep, std::string body, Decode decode, bool idempotent,
    std::optional<clock_type::time_point> deadline, call_tuning const* tuning) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  // What the server may have seen of this operation's attempts, for an end that is no
  // attempt's own result (attempt_outcome.hpp).
  delivery_record delivered;
  std::optional<error_details> ended;
  try {
    for (unsigned attempt = 1;; ++attempt) {
      auto const now = clock_type::now();
      if (deadline_passed(deadline, now)) {
        auto err = make_error_details(make_error_code(errc::deadline_exceeded),
                                      "the operation's deadline passed");
        err.attempts = attempt - 1;
        delivered.describe(err);
        co_return err;
      }

      request_type const req = make_request(ep, body);
      send_options const how{idempotent, attempt_deadline(options_.timeouts.request, deadline, now),
                             delivered.begin_attempt()};  // named: see client.cpp
      send_result sent = co_await pool_->async_send(req, how);

      error_details err;
      if (!sent.error) {
        delivered.on_answer(sent.response.status);
        // An error answer may echo our headers back; scrub them before any of it can be
        // quoted in a message. Success bodies are data (a notification's metadata carries
        // the API key legitimately) and are never quoted.
        if (sent.response.status < 200 || sent.response.status >= 300) redact(sent.response.body);
        redact(sent.response.content_type);
        redact(sent.response.retry_after);
        wire::http_response_view const view{sent.response.status, sent.response.body,
                                            sent.response.retry_after,
                                            sent.response.content_type};
        // A decoder that can keep the body takes it instead of copying it.
        auto decode_now = [&] {
          if constexpr (std::is_invocable_v<Decode&, wire::http_response_view const&,
                                            wire::decode_limits const&, std::string&>)
            return decode(view, options_.limits, sent.response.body);
          else
            return decode(view, options_.limits);
        };
        // Large bodies may be decoded on the decode executor. (The result is named before
        // it is moved: g++ 12 mishandles a co_await inside a conditional or an argument.)
        std::optional<decltype(decode_now())> decoded_opt;
        if (options_.decode_executor &&
            sent.response.body.size() >= options_.decode_elsewhere_min_bytes) {
          auto elsewhere = co_await run_elsewhere(*options_.decode_executor, decode_now);
          decoded_opt = std::move(elsewhere);
        } else {
          decoded_opt.emplace(decode_now());
        }
        auto& decoded = *decoded_opt;
        sent.body_permit.reset();  // the body is decoded: its budget share goes back
        if (decoded) {
          budget_.on_success();
          co_return std::move(*decoded);
        }
        err = std::move(decoded.error());
        // A complete answer, even one whose body cannot be decoded (see velt::delivery).
        mark_answered(err, sent.response.status);
      } else {
        err = std::move(*sent.error);  // its delivery says how far the final try got
        note_not_resent(err, idempotent);
      }
      delivered.on_failure(err);

      // Whether and when to try again: attempt_outcome.hpp.
      std::chrono::milliseconds delay{0};
      if (!after_failure(err, attempt, may_resend(idempotent, err), deadline, delay, tuning))
        co_return err;
      timer.expires_after(delay);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        auto cancelled = make_error_details(ec, "cancelled while waiting to retry");
        cancelled.attempts = attempt;
        delivered.describe(cancelled);
        co_return cancelled;
      }
    }
  } catch (boost::system::system_error const& e) {
    // A cancelled coroutine throws at its next co_await: the attempt in flight may already
    // have sent its request.
    ended = make_error_details(e.code(), "operation ended: " + e.code().message());
  }
  delivered.describe(*ended);
  co_return std::move(*ended);
}

/// Runs `op`, turning the exception a cancelled coroutine throws into an error result.
template <class T>
boost::asio::awaitable<result<T>> guarded(boost::asio::awaitable<result<T>> op) {
  try {
    co_return co_await std::move(op);
  } catch (boost::system::system_error const& e) {
    co_return make_error_details(e.code(), "operation ended: " + e.code().message());
  }
}

}  // namespace velt::detail
