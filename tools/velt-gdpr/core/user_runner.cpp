#include "core/user_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <vector>

namespace velt::gdpr {

namespace asio = boost::asio;

namespace {
struct pulled {
  std::vector<std::string> users;
  bool end = false;  ///< the source has no more
};

// Up to `n` users in one trip to the blocking executor: one hand-off per batch, not per
// user, so that all free slots fill at once (thousands of tiny users stay at the
// configured concurrency instead of trickling in one at a time).
asio::awaitable<pulled> pull(user_runner::next_function const* next, std::size_t n) {
  co_await asio::this_coro::throw_if_cancelled(false);
  pulled out;
  out.users.reserve(n);
  while (out.users.size() < n) {
    std::optional<std::string> user = (*next)();
    if (!user) {
      out.end = true;
      break;
    }
    out.users.push_back(std::move(*user));
  }
  co_return out;
}
}  // namespace

user_runner::user_runner(asio::io_context& io, asio::any_io_executor blocking, std::size_t concurrency)
    : io_(io),
      blocking_(std::move(blocking)),
      control_(asio::make_strand(io)),
      slot_timer_(control_),
      concurrency_(concurrency == 0 ? 1 : concurrency) {}

user_runner::~user_runner() = default;

void user_runner::start(next_function next, work_function work, std::function<void()> done,
                        std::size_t max_batch) {
  next_ = std::move(next);
  max_batch_ = max_batch == 0 ? 1 : max_batch;
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
      // The source may block (a file, a pipe): ask it on the blocking executor, for as
      // many users as there are free slots.
      std::size_t const free_slots = std::min(self->concurrency_ - self->in_flight_, self->max_batch_);
      pulled batch = co_await asio::co_spawn(self->blocking_, pull(&self->next_, free_slots),
                                             asio::use_awaitable);
      for (auto& user : batch.users) {
        if (self->stopping_) break;
        self->launch(std::move(user));
      }
      if (batch.end || self->stopping_) break;
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
