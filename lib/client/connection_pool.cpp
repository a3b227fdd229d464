// SPDX-License-Identifier: BSL-1.0
#include "client/connection_pool.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

namespace velt::detail {
namespace asio = boost::asio;

namespace {
// Over-limit headers or bodies are the server's doing, not the network's: report them as
// such (never retried).
error_details transport_error(boost::system::error_code ec, std::string const& what) {
  namespace http = boost::beast::http;
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow)
    return make_error_details(make_error_code(errc::response_too_large),
                              what + ": response exceeds the configured size limit");
  // Our own codes come with a `what` that already says what happened (e.g. "more than 8
  // interim (1xx) responses"); the code's generic text would only mislead.
  if (ec.category() == make_error_code(errc::malformed_response).category())
    return make_error_details(ec, what);
  return make_error_details(ec, what + ": " + ec.message());
}
}  // namespace

connection_pool::connection_pool(asio::any_io_executor ex, origin o,
                                 std::shared_ptr<asio::ssl::context> tls,
                                 client_options const& opts, client_counters& counters,
                                 std::optional<proxy_route> proxy)
    : executor_(std::move(ex)),
      origin_(std::move(o)),
      proxy_(std::move(proxy)),
      tls_(std::move(tls)),
      timeouts_(opts.timeouts),
      limits_{opts.max_header_bytes, opts.limits.max_body_bytes, opts.timeouts.idle_read},
      idle_timeout_(opts.idle_connection_timeout),
      max_connections_(opts.max_connections),
      counters_(counters),
      permits_(opts.max_connections) {
  if (opts.max_buffered_response_bytes > 0) {
    body_budget_ = std::make_unique<fifo_semaphore>(opts.max_buffered_response_bytes);
    limits_.body_budget = body_budget_.get();
    limits_.body_budget_bytes = opts.max_buffered_response_bytes;
  }
}

connection_pool::~connection_pool() { close_idle(); }

std::unique_ptr<connection> connection_pool::take_idle() {
  auto const now = clock_type::now();
  std::vector<std::unique_ptr<connection>> dead;
  std::unique_ptr<connection> found;
  {
    std::lock_guard lock(idle_mutex_);
    while (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      bool const expired = idle_timeout_.count() > 0 && now - c->idle_since > idle_timeout_;
      if (!expired && c->looks_alive()) {
        found = std::move(c);
        break;
      }
      dead.push_back(std::move(c));
    }
    counters_.connections_idle.store(idle_.size(), std::memory_order_relaxed);
  }
  return found;  // `dead` connections close here, outside the lock
}

void connection_pool::put_idle(std::unique_ptr<connection> c) {
  c->idle_since = clock_type::now();
  std::lock_guard lock(idle_mutex_);
  idle_.push_back(std::move(c));
  counters_.connections_idle.store(idle_.size(), std::memory_order_relaxed);
}

void connection_pool::close_idle() {
  std::vector<std::unique_ptr<connection>> closing;
  std::lock_guard lock(idle_mutex_);
  closing.swap(idle_);
  counters_.connections_idle.store(0, std::memory_order_relaxed);
}

asio::awaitable<send_result> connection_pool::async_send(request_type const& req,
                                                         send_options o) {
  send_result out;
  boost::system::error_code const acquired = co_await permits_.async_acquire();
  if (acquired) {
    out.error = make_error_details(acquired, "cancelled while waiting for a connection");
    out.error->delivery = delivery::not_sent;
    co_return out;
  }
  permit held(permits_);

  for (int pass = 0;; ++pass) {
    if (o.progress != nullptr) *o.progress = delivery::not_sent;  // a new try of the request
    std::unique_ptr<connection> c = take_idle();
    bool const reused = c != nullptr;
    if (reused) {
      counters_.add(counters_.connections_reused);
    } else {
      c = std::make_unique<connection>(executor_, tls_.get(), origin_,
                                       proxy_ ? &*proxy_ : nullptr, counters_);
      exchange_result opened = co_await c->async_open(timeouts_, tls_ ? &sessions_ : nullptr);
      if (opened.ec) {
        out.error = opened.failure ? std::move(*opened.failure) : transport_error(opened.ec, opened.what);
        if (opened.at_proxy) out.error->proxy = proxy_->proxy.authority;
        out.error->delivery = delivery::not_sent;  // always safe to retry
        co_return out;
      }
    }

    counters_.add(counters_.requests);
    auto const started = clock_type::now();
    // A request that is not safe to repeat (a delete) may take the server minutes to
    // answer: only its deadline bounds the wait for the first byte. For the others, the
    // idle limit also finds a kept-alive connection whose peer vanished without a word.
    exchange_limits limits = limits_;
    limits.idle_read_before_first_byte = o.idempotent;
    exchange_result r = co_await c->async_exchange(req, limits, o.deadline,
                                                   tls_ ? &sessions_ : nullptr, o.progress);
    if (!r.ec) {
      counters_.add(counters_.responses);
      counters_.latency.record(
          std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started));
      if (r.response.keep_alive) put_idle(std::move(c));
      out.response = std::move(r.response);
      out.body_permit = std::move(r.body_permit);
      co_return out;
    }
    c.reset();
    // A kept-alive connection the server closed while it sat idle fails before any
    // response byte: resend once on a fresh connection when the request is safe to repeat.
    if (reused && pass == 0 && !r.response_started && o.idempotent &&
        r.ec != asio::error::operation_aborted) {
      counters_.add(counters_.stale_resends);
      continue;
    }
    out.error = transport_error(r.ec, r.what);
    out.error->delivery = r.delivery;
    co_return out;
  }
}

}  // namespace velt::detail
