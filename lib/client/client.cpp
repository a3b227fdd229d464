// SPDX-License-Identifier: BSL-1.0
#include "client/completion.hpp"
#include "client/stream_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

namespace velt {
namespace asio = boost::asio;

namespace detail {
namespace {

std::optional<clock_type::time_point> deadline_from(std::chrono::milliseconds d) {
  if (d.count() <= 0) return std::nullopt;
  return clock_type::now() + d;
}

asio::awaitable<result<user_data>> fetch_user_data(std::shared_ptr<client_impl> impl,
                                                   user_data_request request) {
  user_data merged;
  merged.organization_id = request.organization_id;
  merged.user_id = request.user_id;
  for (char const* name : known_features) merged.data[name] = boost::json::array();

  auto st = std::make_shared<stream_state>(impl, std::move(request));
  st->deadline = deadline_from(impl->options().stream_deadline);
  for (;;) {
    auto r = co_await next_page(st);
    if (!r) co_return r.error();
    if (!*r) break;
    ++merged.pages;
    boost::json::object page = (*r)->release_data();
    for (auto& [key, value] : page) {
      // Features are arrays; the only other member the decoder lets through is a
      // "nextPageToken" inside data, which is not data and not merged.
      if (!value.is_array()) continue;
      auto& items = merged.data[key];
      if (!items.is_array()) items = boost::json::array();
      auto& target = items.as_array();
      auto& source = value.as_array();
      target.reserve(target.size() + source.size());
      for (auto& item : source) target.push_back(std::move(item));
    }
  }
  co_return merged;
}

asio::awaitable<result<delete_job>> delete_users(std::shared_ptr<client_impl> impl,
                                                 delete_user_data_request request) {
  if (auto invalid = wire::validate(request)) co_return std::move(*invalid);
  auto decode = [](wire::http_response_view const& v, wire::decode_limits const& l) {
    return wire::decode_delete_job(v, l);
  };
  co_return co_await impl->call<delete_job>(wire::endpoint::delete_user_data,
                                            wire::encode(request), decode,
                                            /*idempotent=*/false, std::nullopt);
}

asio::awaitable<result<delete_status>> job_status(std::shared_ptr<client_impl> impl,
                                                  delete_status_request request,
                                                  std::optional<clock_type::time_point> deadline) {
  if (auto invalid = wire::validate(request)) co_return std::move(*invalid);
  auto decode = [](wire::http_response_view const& v, wire::decode_limits const& l) {
    return wire::decode_delete_status(v, l);
  };
  co_return co_await impl->call<delete_status>(wire::endpoint::delete_status,
                                               wire::encode(request), decode,
                                               /*idempotent=*/true, deadline);
}

asio::awaitable<result<delete_status>> wait_for_deletion(std::shared_ptr<client_impl> impl,
                                                         wait_for_deletion_request request) {
  if (request.poll_interval.count() <= 0)
    co_return make_error_details(make_error_code(errc::invalid_request),
                                 "poll_interval must be positive");
  auto const deadline = deadline_from(request.timeout);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    // Aggregate temporaries must not appear in a co_await expression: g++ 12 destroys
    // them twice. Build the operation first, then await it.
    delete_status_request status_request{request.job_id};
    auto poll = job_status(impl, std::move(status_request), deadline);
    auto st = co_await std::move(poll);
    if (!st) co_return st.error();
    if (request.on_progress) request.on_progress(*st);
    if (st->is_delete_completed) co_return std::move(*st);
    if (deadline && clock_type::now() + request.poll_interval >= *deadline) {
      co_return make_error_details(
          make_error_code(errc::deadline_exceeded),
          "deletion job " + request.job_id + " not complete before the timeout (" +
              std::to_string(st->tasks_left) + " tasks left)");
    }
    timer.expires_after(request.poll_interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return make_error_details(ec, "cancelled while waiting for deletion");
  }
}

template <class T>
void launch(std::shared_ptr<client_impl> const& impl, asio::awaitable<result<T>> op,
            error_details* details,
            asio::any_completion_handler<void(boost::system::error_code, T)> handler) {
  auto strand = asio::make_strand(impl->executor());
  auto cancel = std::make_shared<operation_cancellation>(strand);
  operation_cancellation::forward(cancel, handler.get_cancellation_slot());
  asio::co_spawn(strand, while_running(cancel, guarded(std::move(op))),
                 op_completion<T>{std::move(handler), details, strand, cancel});
}

template <class T>
asio::awaitable<T> value_or_throw(asio::awaitable<result<T>> op) {
  auto r = co_await guarded(std::move(op));
  if (!r) throw velt::error(std::move(r.error()));
  co_return std::move(*r);
}

}  // namespace
}  // namespace detail

client::client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_shared<detail::client_impl>(std::move(executor), std::move(options))) {}

asio::any_io_executor client::get_executor() const { return impl_->executor(); }

page_stream client::async_fetch_all_user_data(user_data_request request,
                                              page_format format) const {
  return async_fetch_all_user_data(std::move(request), fetch_options{.format = format});
}

page_stream client::async_fetch_all_user_data(user_data_request request,
                                              fetch_options options) const {
  auto st = std::make_shared<detail::stream_state>(impl_, std::move(request));
  st->format = options.format;
  st->tuning.on_retry = std::move(options.on_retry);
  st->tuning.max_attempts = options.max_attempts;
  st->deadline = detail::deadline_from(impl_->options().stream_deadline);
  return page_stream(std::move(st));
}

asio::awaitable<user_data> client::await_fetch_user_data(user_data_request r) const {
  return detail::value_or_throw(detail::fetch_user_data(impl_, std::move(r)));
}
void client::start_fetch_user_data(user_data_request r, error_details* d,
                                   asio::any_completion_handler<user_data_signature> h) const {
  detail::launch(impl_, detail::fetch_user_data(impl_, std::move(r)), d, std::move(h));
}

asio::awaitable<delete_job> client::await_delete(delete_user_data_request r) const {
  return detail::value_or_throw(detail::delete_users(impl_, std::move(r)));
}
void client::start_delete(delete_user_data_request r, error_details* d,
                          asio::any_completion_handler<delete_job_signature> h) const {
  detail::launch(impl_, detail::delete_users(impl_, std::move(r)), d, std::move(h));
}

asio::awaitable<delete_status> client::await_status(delete_status_request r) const {
  return detail::value_or_throw(detail::job_status(impl_, std::move(r), std::nullopt));
}
void client::start_status(delete_status_request r, error_details* d,
                          asio::any_completion_handler<delete_status_signature> h) const {
  detail::launch(impl_, detail::job_status(impl_, std::move(r), std::nullopt), d, std::move(h));
}

asio::awaitable<delete_status> client::await_wait(wait_for_deletion_request r) const {
  return detail::value_or_throw(detail::wait_for_deletion(impl_, std::move(r)));
}
void client::start_wait(wait_for_deletion_request r, error_details* d,
                        asio::any_completion_handler<delete_status_signature> h) const {
  detail::launch(impl_, detail::wait_for_deletion(impl_, std::move(r)), d, std::move(h));
}

void client::set_auth_token(std::string auth_token) { impl_->set_auth_token(std::move(auth_token)); }

client_stats client::stats() const { return impl_->counters().snapshot(); }

retry_options const& client::retry_policy() const noexcept { return impl_->options().retry; }

void client::close_idle_connections() { impl_->pool().close_idle(); }

}  // namespace velt
