#include "core/user_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace velt::gdpr {

namespace asio = boost::asio;

namespace {
asio::awaitable<std::optional<std::string>> pull(user_runner::next_function const* next) {
  co_await asio::this_coro::throw_if_cancelled(false);
  co_return (*next)();
}
}  // namespace

user_runner::user_runner(asio::io_context& io, asio::any_io_executor blocking, std::size_t concurrency)
    : io_(io),
      blocking_(std::move(blocking)),
      control_(asio::make_strand(io)),
      slot_timer_(control_),
      concurrency_(concurrency == 0 ? 1 : concurrency) {}

user_runner::~user_runner() = default;

void user_runner::start(next_function next, work_function work, std::function<void()> done) {
  next_ = std::move(next);
  work_ = std::move(work);
  done_ = std::move(done);
  feeding_ = true;
  asio::co_spawn(control_, feed(this), asio::detached);
}

asio::awaitable<void> user_runner::feed(user_runner* self) {
  try {
    for (;;) {
      while (self->in_flight_ >= self->concurrency_ && !self->stopping_) {
        self->slot_timer_.expires_at(asio::steady_timer::time_point::max());
        (void)co_await self->slot_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      if (self->stopping_) break;
      // The source may block (a file, a pipe): ask it on the blocking executor.
      std::optional<std::string> user =
          co_await asio::co_spawn(self->blocking_, pull(&self->next_), asio::use_awaitable);
      if (!user || self->stopping_) break;
      self->launch(std::move(*user));
    }
  } catch (...) {
    self->source_error_ = std::current_exception();  // no new users; running ones finish
  }
  self->feeding_ = false;
  self->maybe_done();
}

void user_runner::launch(std::string user) {
  auto a = std::make_shared<active>(asio::make_strand(io_));
  active_.insert(a);
  ++in_flight_;
  ++in_flight_count_;
  asio::co_spawn(a->strand, work_(std::move(user)),
                 asio::bind_cancellation_slot(
                     a->signal.slot(),
                     asio::bind_executor(control_, [this, a](std::exception_ptr e) { finished(a, e); })));
}

void user_runner::finished(std::shared_ptr<active> const& a, std::exception_ptr e) {
  if (e && !work_error_) work_error_ = e;
  active_.erase(a);
  --in_flight_;
  --in_flight_count_;
  slot_timer_.cancel();
  maybe_done();
}

void user_runner::maybe_done() {
  if (done_called_ || in_flight_ > 0) return;
  // Not waiting for a source stuck in a read once stopped.
  if (feeding_ && !stopping_) return;
  done_called_ = true;
  if (done_) done_();
}

void user_runner::stop() {
  asio::post(control_, [this] {
    stopping_ = true;
    slot_timer_.cancel();
    for (auto const& a : active_) {
      asio::post(a->strand, [a] { a->signal.emit(asio::cancellation_type::terminal); });
    }
    maybe_done();
  });
}

}  // namespace velt::gdpr
