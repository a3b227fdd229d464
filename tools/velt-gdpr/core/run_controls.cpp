// SPDX-License-Identifier: BSL-1.0
#include "core/run_controls.hpp"

#include "core/exit_code.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdlib>

namespace velt::gdpr {

namespace asio = boost::asio;

namespace {

template <class State>
asio::awaitable<void> watch(std::shared_ptr<State> st) {
  for (;;) {
    auto [ec, sig] = co_await st->set.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (st->received.exchange(sig) != 0) std::_Exit(exit_code::interrupted_base + sig);
    st->on_first(sig);
  }
}

template <class State>
asio::awaitable<void> tick(std::shared_ptr<State> st) {
  auto const interval = st->con->redraws() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  while (!st->stopped) {
    st->timer.expires_after(interval);
    auto [ec] = co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || st->stopped) break;
    st->con->progress(st->line());
  }
}

}  // namespace

stop_signals::stop_signals(asio::any_io_executor ex, std::function<void(int)> on_first)
    : state_(std::make_shared<state>(ex)) {
  state_->on_first = std::move(on_first);
  state_->set.add(SIGINT);
  state_->set.add(SIGTERM);
  asio::co_spawn(ex, watch(state_), asio::detached);
}

void stop_signals::cancel() { state_->set.cancel(); }

progress_ticker::progress_ticker(asio::any_io_executor ex, console& con, std::function<std::string()> line)
    : state_(std::make_shared<state>(ex)) {
  state_->con = &con;
  state_->line = std::move(line);
  if (con.shows_progress()) asio::co_spawn(ex, tick(state_), asio::detached);
}

void progress_ticker::stop(bool final_line) {
  if (state_->stopped) return;
  state_->stopped = true;
  if (final_line && state_->con->shows_progress()) state_->con->progress(state_->line());
  state_->timer.cancel();
}

}  // namespace velt::gdpr
