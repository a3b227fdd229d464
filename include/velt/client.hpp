// SPDX-License-Identifier: BSL-1.0
// velt/client.hpp: the asynchronous client of Velt's GDPR REST API.
//
//   velt::client client(executor, opts);
//   velt::page_stream pages = client.async_fetch_all_user_data({.organization_id = "org",
//                                                               .user_id = "alice"});
//   while (auto page = co_await pages.async_next(boost::asio::use_awaitable)) { ... }
//
// Every asynchronous operation takes any Asio completion token. Completion signatures:
//   page_stream::async_next               void(error_code, std::optional<user_data_page>)
//   client::async_fetch_user_data         void(error_code, user_data)
//   client::async_delete_all_user_data    void(error_code, delete_job)
//   client::async_get_delete_user_data_status  void(error_code, delete_status)
//   client::async_wait_for_deletion       void(error_code, delete_status)
// With `boost::asio::use_awaitable` a failure throws `velt::error` (derived from
// `boost::system::system_error`) carrying `velt::error_details`; with other tokens the
// details are available through the `error_details&` overloads (and
// `page_stream::last_error()`).
#pragma once

#include <velt/client_options.hpp>
#include <velt/error.hpp>
#include <velt/model.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

/// The velt-gdpr SDK: the client of Velt's GDPR REST API (`velt::client`), its typed
/// requests and responses, its error model (`velt::error_details`, `velt::error`), and runs
/// over many users on one client (`velt::batch_exporter`, `velt::batch_eraser`).
namespace velt {

namespace detail {
class client_impl;
struct stream_state;

template <class Token>
inline constexpr bool is_default_use_awaitable_v =
    std::is_same_v<std::decay_t<Token>, boost::asio::use_awaitable_t<boost::asio::any_io_executor>>;

using next_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::optional<user_data_page>)>;
}  // namespace detail

/// All pages of one user, merged: each feature's items from every page, in server order.
struct user_data {
  /// The request's `organization_id`.
  std::string organization_id;
  /// The request's `user_id`.
  std::string user_id;
  /// feature name → array of items; the four known features are always present.
  boost::json::object data;
  std::size_t pages = 0;  ///< number of pages fetched
};

/// The pages of one user, fetched one at a time as the consumer asks for them.
///
/// Holds no page of its own: page k+1 is requested when the consumer asks for it, and
/// the consumer owns each page it receives. The page-token chain runs on the stream's own strand;
/// pages are never skipped or repeated, retries included. One `async_next` at a time.
/// Destroying the stream cancels its outstanding work. Movable, not copyable.
class page_stream {
 public:
  /// An empty stream: `done()`, and `async_next` fails with `errc::invalid_request`.
  page_stream() = default;
  /// Takes over `other`'s stream, its operation in flight included; `other` is left empty.
  page_stream(page_stream&&) noexcept = default;
  /// Cancels this stream's outstanding work (as destroying it would), then takes over
  /// `other`'s stream; `other` is left empty.
  page_stream& operator=(page_stream&&) noexcept;
  page_stream(page_stream const&) = delete;
  page_stream& operator=(page_stream const&) = delete;
  ~page_stream();

  /// Completion signature of `async_next`: the next page, or `std::nullopt` after the last
  /// one.
  using next_signature = void(boost::system::error_code, std::optional<user_data_page>);

  /// Fetches the next page. Completes with the page, with `std::nullopt` after the last
  /// page, or with an error (after which the stream is finished). Cancellation (per-operation
  /// slot, terminal) ends it with `boost::asio::error::operation_aborted`.
  template <class CompletionToken>
  auto async_next(CompletionToken&& token) {
    if constexpr (detail::is_default_use_awaitable_v<CompletionToken>) {
      return await_next();
    } else {
      return boost::asio::async_initiate<CompletionToken, next_signature>(
          [](auto handler, page_stream* self) { self->start_next(std::move(handler)); }, token,
          this);
    }
  }

  /// Details of the error the stream ended with (status `OK` when none).
  error_details const& last_error() const;
  /// Number of pages delivered so far.
  std::size_t pages_delivered() const;
  /// True once the last page was delivered or an error ended the stream.
  bool done() const;

 private:
  friend class client;
  explicit page_stream(std::shared_ptr<detail::stream_state> state);
  void start_next(detail::next_handler handler);
  boost::asio::awaitable<std::optional<user_data_page>> await_next();

  std::shared_ptr<detail::stream_state> state_;
};

/// The client of Velt's GDPR API. A cheap handle: copies share one connection pool.
/// Thread-safe: its operations may be started from any thread.
class client {
 public:
  /// Validates `options` (throws `velt::error` with `errc::invalid_request` naming the
  /// field: malformed base URL, http:// without `allow_plain_http`, CR/LF/NUL in a
  /// credential, unreadable `ca_file`, zero `max_connections`, ...). No I/O happens here.
  client(boost::asio::any_io_executor executor, client_options options);

  /// The executor the client was made with.
  boost::asio::any_io_executor get_executor() const;

  // ---- Get All User Data ------------------------------------------------------------

  /// A stream over the pages of one user. Invalid requests are reported by the first
  /// `async_next`, before any I/O. `page_format::raw` delivers each item's JSON text
  /// instead of Boost.JSON values (`user_data_page::raw_features`): the same pages, tokens
  /// and errors, at a fraction of the CPU, for code that stores or forwards items.
  page_stream async_fetch_all_user_data(user_data_request request,
                                        page_format format = page_format::parsed) const;
  /// The same, with per-stream options (format, a retry observer of this stream's own).
  page_stream async_fetch_all_user_data(user_data_request request, fetch_options options) const;

  /// Completion signature of `async_fetch_user_data`.
  using user_data_signature = void(boost::system::error_code, user_data);

  /// Fetches every page of one user and merges them into one value.
  template <class CompletionToken>
  auto async_fetch_user_data(user_data_request request, CompletionToken&& token) const {
    return run<user_data_signature>(&client::await_fetch_user_data,
                                    &client::start_fetch_user_data, std::move(request),
                                    nullptr, std::forward<CompletionToken>(token));
  }
  /// The same; `details` receives the outcome just before the handler runs (the failure's
  /// details, or a default `error_details` on success) and must stay alive until then. Not
  /// written with `boost::asio::use_awaitable` itself: a failure throws `velt::error` instead.
  template <class CompletionToken>
  auto async_fetch_user_data(user_data_request request, error_details& details,
                             CompletionToken&& token) const {
    return run<user_data_signature>(&client::await_fetch_user_data,
                                    &client::start_fetch_user_data, std::move(request),
                                    &details, std::forward<CompletionToken>(token));
  }

  // ---- Delete All User Data -----------------------------------------------------------

  /// Completion signature of `async_delete_all_user_data`.
  using delete_job_signature = void(boost::system::error_code, delete_job);

  /// Queues deletion of the users' data. The request is never resent once it may have
  /// reached the server (only failures before sending, and throttling answers, are retried).
  /// After a failure, `velt::may_have_taken_effect(details)` says whether a job may still
  /// have been queued (`details.delivery` says how far the request got).
  template <class CompletionToken>
  auto async_delete_all_user_data(delete_user_data_request request,
                                  CompletionToken&& token) const {
    return run<delete_job_signature>(&client::await_delete, &client::start_delete,
                                     std::move(request), nullptr,
                                     std::forward<CompletionToken>(token));
  }
  /// The same; `details` receives the outcome just before the handler runs (the failure's
  /// details, or a default `error_details` on success) and must stay alive until then. Not
  /// written with `boost::asio::use_awaitable` itself: a failure throws `velt::error` instead.
  template <class CompletionToken>
  auto async_delete_all_user_data(delete_user_data_request request, error_details& details,
                                  CompletionToken&& token) const {
    return run<delete_job_signature>(&client::await_delete, &client::start_delete,
                                     std::move(request), &details,
                                     std::forward<CompletionToken>(token));
  }

  // ---- Get Delete All User Data Status ---------------------------------------------

  /// Completion signature of `async_get_delete_user_data_status` and
  /// `async_wait_for_deletion`.
  using delete_status_signature = void(boost::system::error_code, delete_status);

  /// Reads the progress of a deletion job.
  template <class CompletionToken>
  auto async_get_delete_user_data_status(delete_status_request request,
                                         CompletionToken&& token) const {
    return run<delete_status_signature>(&client::await_status, &client::start_status,
                                        std::move(request), nullptr,
                                        std::forward<CompletionToken>(token));
  }
  /// The same; `details` receives the outcome just before the handler runs (the failure's
  /// details, or a default `error_details` on success) and must stay alive until then. Not
  /// written with `boost::asio::use_awaitable` itself: a failure throws `velt::error` instead.
  template <class CompletionToken>
  auto async_get_delete_user_data_status(delete_status_request request, error_details& details,
                                         CompletionToken&& token) const {
    return run<delete_status_signature>(&client::await_status, &client::start_status,
                                        std::move(request), &details,
                                        std::forward<CompletionToken>(token));
  }

  /// Polls a deletion job every `options.poll_interval` until it completes. Completes with
  /// the final status, or with `errc::deadline_exceeded` when `options.timeout` passes first
  /// (the last status seen is in the error message).
  template <class CompletionToken>
  auto async_wait_for_deletion(wait_for_deletion_request request, CompletionToken&& token) const {
    return run<delete_status_signature>(&client::await_wait, &client::start_wait,
                                        std::move(request), nullptr,
                                        std::forward<CompletionToken>(token));
  }
  /// The same; `details` receives the outcome just before the handler runs (the failure's
  /// details, or a default `error_details` on success) and must stay alive until then. Not
  /// written with `boost::asio::use_awaitable` itself: a failure throws `velt::error` instead.
  template <class CompletionToken>
  auto async_wait_for_deletion(wait_for_deletion_request request, error_details& details,
                               CompletionToken&& token) const {
    return run<delete_status_signature>(&client::await_wait, &client::start_wait,
                                        std::move(request), &details,
                                        std::forward<CompletionToken>(token));
  }

  // ---- Management -----------------------------------------------------------------------

  /// Replaces the auth token used by requests sent from now on (after a rotation in the
  /// Velt console, say). Throws `velt::error` (invalid_request) for an empty token or one
  /// containing CR, LF or NUL.
  void set_auth_token(std::string auth_token);

  /// A snapshot of the client's counters.
  client_stats stats() const;

  /// The retry policy the client was made with (`client_options::retry`).
  retry_options const& retry_policy() const noexcept;

  /// Closes idle pooled connections now (they are reopened on demand).
  void close_idle_connections();

 private:
  template <class Signature>
  struct handler_of;
  template <class... Args>
  struct handler_of<void(Args...)> {
    using type = boost::asio::any_completion_handler<void(Args...)>;
  };

  template <class Signature, class Await, class Start, class Request, class CompletionToken>
  auto run(Await await_fn, Start start_fn, Request request, error_details* details,
           CompletionToken&& token) const {
    if constexpr (detail::is_default_use_awaitable_v<CompletionToken>) {
      return (this->*await_fn)(std::move(request));
    } else {
      return boost::asio::async_initiate<CompletionToken, Signature>(
          [](auto handler, client const* self, Start start, Request req, error_details* d) {
            (self->*start)(std::move(req), d,
                           typename handler_of<Signature>::type(std::move(handler)));
          },
          token, this, start_fn, std::move(request), details);
    }
  }

  boost::asio::awaitable<user_data> await_fetch_user_data(user_data_request r) const;
  void start_fetch_user_data(user_data_request r, error_details* d,
                             boost::asio::any_completion_handler<user_data_signature> h) const;
  boost::asio::awaitable<delete_job> await_delete(delete_user_data_request r) const;
  void start_delete(delete_user_data_request r, error_details* d,
                    boost::asio::any_completion_handler<delete_job_signature> h) const;
  boost::asio::awaitable<delete_status> await_status(delete_status_request r) const;
  void start_status(delete_status_request r, error_details* d,
                    boost::asio::any_completion_handler<delete_status_signature> h) const;
  boost::asio::awaitable<delete_status> await_wait(wait_for_deletion_request r) const;
  void start_wait(wait_for_deletion_request r, error_details* d,
                  boost::asio::any_completion_handler<delete_status_signature> h) const;

  std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace velt
