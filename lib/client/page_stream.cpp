// SPDX-License-Identifier: BSL-1.0
#include "client/completion.hpp"
#include "client/stream_state.hpp"
#include "wire/decode_raw.hpp"

#include <boost/asio/system_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

namespace velt {
namespace asio = boost::asio;

namespace detail {
namespace {
asio::awaitable<result<std::optional<user_data_page>>> fetch_next(
    std::shared_ptr<stream_state> st) {
  if (st->finished) {
    if (st->last_error.code) co_return st->last_error;
    co_return std::optional<user_data_page>{};
  }
  if (st->chain.next_index() == 0) {
    if (auto invalid = wire::validate(st->request)) {
      st->finished = true;
      st->last_error = *invalid;
      co_return std::move(*invalid);
    }
  }
  // The answer's HTTP status, for an error about a page the server sent in full.
  unsigned answered_status = 0;
  auto decode = [raw = st->format == page_format::raw, &answered_status](
                    wire::http_response_view const& v, wire::decode_limits const& l,
                    std::string& body) {
    answered_status = v.status;
    // A raw page keeps the response body itself (its items are views into it).
    return raw ? wire::decode_user_data_raw_owned(v, std::move(body), l)
               : wire::decode_user_data(v, l);
  };
  st->request.page_token = st->chain.token();
  auto r = co_await st->client->call<user_data_page>(
      wire::endpoint::get_user_data, wire::encode(st->request), decode,
      /*idempotent=*/true, st->deadline, &st->tuning);
  if (!r) co_return r.error();

  user_data_page page = std::move(*r);
  // Where the chain goes next, and the page's index (page_token_chain.hpp): a token that
  // would loop ends the stream with a typed error about a complete answer.
  auto index = st->chain.accept(page.next_page_token());
  if (!index) {
    error_details err = index.error();  // a temporary already: moving it would block elision
    mark_answered(err, answered_status);
    co_return err;
  }
  page.set_index(*index);
  if (st->chain.ended()) st->finished = true;
  st->client->counters().add(st->client->counters().pages);
  co_return std::optional<user_data_page>(std::move(page));
}
}  // namespace

asio::awaitable<result<std::optional<user_data_page>>> fail_with(error_details e) {
  co_return e;
}

asio::awaitable<result<std::optional<user_data_page>>> next_page(
    std::shared_ptr<stream_state> st) {
  auto r = co_await guarded(fetch_next(st));
  if (!r) {
    st->finished = true;
    st->last_error = r.error();
  }
  co_return r;
}
}  // namespace detail

page_stream::page_stream(std::shared_ptr<detail::stream_state> state) : state_(std::move(state)) {}

namespace {
void cancel_stream(std::shared_ptr<detail::stream_state> const& st) {
  if (st) detail::operation_cancellation::request(st->cancel, asio::cancellation_type::all);
}
}  // namespace

page_stream::~page_stream() { cancel_stream(state_); }

page_stream& page_stream::operator=(page_stream&& other) noexcept {
  if (this != &other) {
    cancel_stream(state_);
    state_ = std::move(other.state_);
  }
  return *this;
}

void page_stream::start_next(detail::next_handler handler) {
  using result_type = std::optional<user_data_page>;
  auto st = state_;
  auto fail_now = [&handler, &st](boost::system::error_code ec) {
    auto strand = st ? st->strand : asio::make_strand(asio::any_io_executor(asio::system_executor()));
    asio::co_spawn(strand, detail::fail_with(make_error_details(ec, ec.message())),
                   detail::op_completion<result_type>{std::move(handler), nullptr, strand, nullptr});
  };
  if (!st) return fail_now(make_error_code(errc::invalid_request));
  if (st->busy.exchange(true)) return fail_now(asio::error::in_progress);

  // The operation listens to the stream's own signal (so that destroying the stream
  // cancels it); the caller's slot, if any, is forwarded to it (operation_cancellation.hpp).
  detail::operation_cancellation::forward(st->cancel, handler.get_cancellation_slot());
  struct finish {
    std::shared_ptr<detail::stream_state> st;
    detail::op_completion<result_type> inner;
    using executor_type = detail::op_completion<result_type>::executor_type;
    executor_type get_executor() const noexcept { return inner.get_executor(); }
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return inner.get_cancellation_slot();
    }
    void operator()(std::exception_ptr ep, velt::result<result_type> r) {
      st->busy.store(false);
      inner(ep, std::move(r));
    }
  };
  auto strand = st->strand;
  auto cancel = st->cancel;
  asio::co_spawn(strand, detail::while_running(cancel, detail::next_page(st)),
                 finish{st, detail::op_completion<result_type>{std::move(handler), nullptr,
                                                               strand, cancel}});
}

asio::awaitable<std::optional<user_data_page>> page_stream::await_next() {
  auto st = state_;
  auto [ec, page] = co_await async_next(asio::as_tuple(asio::use_awaitable));
  if (ec) {
    if (st && st->last_error.code == ec) throw velt::error(st->last_error);
    throw velt::error(make_error_details(ec, ec.message()));
  }
  co_return std::move(page);
}

error_details const& page_stream::last_error() const {
  static error_details const none;
  return state_ ? state_->last_error : none;
}

std::size_t page_stream::pages_delivered() const {
  return state_ ? state_->chain.next_index() : 0;
}

bool page_stream::done() const { return !state_ || state_->finished; }

}  // namespace velt
