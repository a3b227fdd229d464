// SPDX-License-Identifier: BSL-1.0
#include "http_session.hpp"

#include "compression.hpp"
#include "delivery.hpp"
#include "json_writer.hpp"
#include "media_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <openssl/ssl.h>

#include <array>
#include <chrono>

// g++ 12 reports a false -Wmismatched-new-delete for Asio's awaitable frames when optimising
// (the frame's operator new and delete are a matching pair).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace velt::mock::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<beast::tcp_stream>;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit = 16 * 1024;
constexpr std::uint64_t body_limit = 1 << 20;
constexpr auto handshake_timeout = 10s;
constexpr auto write_timeout = 60s;
constexpr auto shutdown_timeout = 250ms;

struct connection_guard {
  stats_registry& stats;
  ~connection_guard() { stats.connection_closed(); }
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(use_tuple);
}

void close_abrupt(beast::tcp_stream& tcp, bool reset) {
  boost::system::error_code ec;
  auto& socket = tcp.socket();
  if (reset) socket.set_option(asio::socket_base::linger(true, 0), ec);
  else socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

asio::awaitable<void> close_clean(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
  co_return;
}

asio::awaitable<void> close_clean(tls_stream& stream) {
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(shutdown_timeout);  // do not wait long for the peer's close_notify
  co_await stream.async_shutdown(use_tuple);
  close_abrupt(tcp, false);
}

std::optional<std::string_view> header(http::request<http::string_body> const& req, std::string_view name) {
  auto const it = req.find(name);
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

std::uint64_t server_stats::*refused_counter(refusal r) noexcept {
  switch (r) {
    case refusal::rate: return &server_stats::refused_rate;
    case refusal::quota: return &server_stats::refused_quota;
    case refusal::concurrency: return &server_stats::refused_concurrency;
    default: return &server_stats::refused_outage;
  }
}

std::string_view refusal_name(refusal r) noexcept {
  switch (r) {
    case refusal::none: return "none";
    case refusal::outage: return "outage";
    case refusal::concurrency: return "concurrency";
    case refusal::rate: return "rate";
    case refusal::quota: return "quota";
  }
  return "?";
}

/// server_options::gzip: `Vary: Accept-Encoding` on every API answer, and the body in gzip
/// when the request accepts it (page bodies from the compressed-page cache). An answer a
/// fault already gave a content coding is left as it is.
void encode_for(api_response& res, server_core& core, std::optional<std::string_view> accept_encoding) {
  if (!core.opts.gzip) return;
  for (auto const& h : res.headers)
    if (h.first == "Content-Encoding") return;
  res.headers.emplace_back("Vary", "Accept-Encoding");
  if (!accept_encoding || !accepts_gzip(*accept_encoding) || !res.body || res.body->empty()) return;
  res.body = res.is_page ? core.gzipped_pages.compressed(res.body)
                         : std::make_shared<std::string const>(gzip_compress(*res.body));
  res.headers.emplace_back("Content-Encoding", "gzip");
  core.stats.response_gzip();
}

/// The buffers of bytes [from, to) of head + body.
std::array<asio::const_buffer, 2> slice(delivery_plan const& p, std::size_t from, std::size_t to) {
  std::size_t const h = p.head.size();
  std::array<asio::const_buffer, 2> out{};
  if (from < h) out[0] = asio::buffer(p.head.data() + from, std::min(to, h) - from);
  if (to > h) {
    std::size_t const b = std::max(from, h) - h;
    out[1] = asio::buffer(p.body->data() + b, to - h - b);
  }
  return out;
}

/// Carries out a delivery plan. Returns whether the connection can serve another request.
template <class Stream>
asio::awaitable<bool> deliver(Stream& stream, delivery_plan const& plan, bool page, server_core& core) {
  using op = delivery_step::op;
  auto& tcp = beast::get_lowest_layer(stream);
  std::size_t written = 0;
  bool ok = true;
  for (auto const& step : plan.steps) {
    switch (step.kind) {
      case op::send: {
        tcp.expires_after(write_timeout);
        auto [ec, n] = co_await asio::async_write(stream, slice(plan, step.from, step.to), use_tuple);
        written += n;
        if (ec) ok = false;
        break;
      }
      case op::pause: co_await sleep_for(step.pause); break;
      case op::reset: close_abrupt(tcp, true); ok = false; break;
      case op::close_abrupt: close_abrupt(tcp, false); ok = false; break;
      case op::close_clean: co_await close_clean(stream); ok = false; break;
    }
    if (!ok) break;
  }
  core.stats.response_written(written, page && plan.complete && written == plan.total());
  co_return ok && plan.keep_alive;
}

template <class Stream>
asio::awaitable<void> send_simple(Stream& stream, server_core& core, api_response const& res, bool keep_alive) {
  auto const plan = plan_delivery(res, std::nullopt, keep_alive);
  co_await deliver(stream, plan, false, core);
}

template <class Stream>
asio::awaitable<void> serve_requests(server_core& core, Stream& stream) {
  auto& tcp = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    if (core.opts.idle_timeout.count() > 0) tcp.expires_after(core.opts.idle_timeout);
    else tcp.expires_never();
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) {
      if (ec == beast::error::timeout) {
        if (!parser.got_some()) core.stats.idle_closed();
        core.log("connection closed: idle");
      } else if (ec == http::error::header_limit) {
        co_await send_simple(stream, core, error_response(431, "INVALID_ARGUMENT", "Request headers too large.", 431), false);
      } else if (ec == http::error::body_limit) {
        co_await send_simple(stream, core, error_response(413, "INVALID_ARGUMENT", "Request body too large.", 413), false);
      } else if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
                 ec != http::error::partial_message) {
        co_await send_simple(stream, core, error_response(400, "INVALID_ARGUMENT", "Malformed HTTP request.", 400), false);
      }
      co_return;
    }
    auto const& req = parser.get();
    bool const keep_alive = req.keep_alive() && !core.stopping.load(std::memory_order_relaxed);
    if (is_media_target(std::string_view(req.target().data(), req.target().size()))) {
      // The media host: outside the API's faults, limits and request numbering.
      if (!co_await serve_media(stream, core, req, keep_alive)) co_return;
      continue;
    }
    http_request_view const view{std::string_view(req.method_string().data(), req.method_string().size()),
                                 std::string_view(req.target().data(), req.target().size()),
                                 header(req, "x-velt-api-key"), header(req, "x-velt-auth-token"), req.body()};
    parsed_request const parsed = core.handler.parse(view);

    if (parsed.route == route_kind::stats) {
      api_response res;
      if (parsed.rejection) {
        res = *parsed.rejection;
      } else {
        res.body = std::make_shared<std::string const>(to_json(core.stats.snapshot().to_json()));
      }
      auto const plan = plan_delivery(res, std::nullopt, keep_alive, req.version() == 10);
      if (!co_await deliver(stream, plan, false, core)) co_return;
      continue;
    }

    std::uint64_t const number = core.request_counter.fetch_add(1, std::memory_order_relaxed) + 1;
    bool const is_get = parsed.endpoint == wire::endpoint::get_user_data;
    core.stats.request(parsed.endpoint, is_get && !parsed.users.empty() ? &parsed.users.front() : nullptr, parsed.page);
    if (core.recorder.enabled() && parsed.endpoint) core.recorder.record({number, *parsed.endpoint, parsed.data});
    limit_decision const limit = core.limits.check(std::chrono::steady_clock::now());
    if (limit.refused != refusal::none) {
      core.stats.refused(refused_counter(limit.refused));
      if (core.opts.logger) {
        core.log("request " + std::to_string(number) + " " + std::string(view.method) + " " + std::string(view.target) +
                 " refused=" + std::string(refusal_name(limit.refused)));
      }
      if (!limit.response) {  // outage, refuse mode: reset the connection
        close_abrupt(tcp, true);
        co_return;
      }
      api_response refusal = *limit.response;
      encode_for(refusal, core, header(req, "accept-encoding"));
      auto const plan = plan_delivery(refusal, std::nullopt, keep_alive, req.version() == 10);
      if (!co_await deliver(stream, plan, false, core)) co_return;
      continue;
    }
    fault_decision const d = core.faults.decide(request_facts{number, parsed.endpoint, parsed.users, parsed.page});
    for (auto k : d.fired) core.stats.fault_fired(k);
    if (core.opts.logger) {
      std::string line = "request " + std::to_string(number) + " " + std::string(view.method) + " " + std::string(view.target);
      for (auto k : d.fired) line += " fault=" + std::string(to_string(k));
      core.log(line);
    }
    if (d.delay.count() > 0) co_await sleep_for(d.delay);

    auto const now = std::chrono::system_clock::now();
    api_response res;
    std::optional<fault> transport;
    if (d.action && replaces_response(d.action->kind)) {
      res = fault_response(*d.action, nullptr, now);
    } else {
      res = core.handler.respond(parsed, now);
      if (d.action && transforms_response(d.action->kind)) {
        res = fault_response(*d.action, &res, now);
      } else {
        transport = d.action;
      }
    }
    encode_for(res, core, header(req, "accept-encoding"));
    auto const plan = plan_delivery(res, transport, keep_alive, req.version() == 10);
    if (!co_await deliver(stream, plan, res.is_page && res.status == 200, core)) co_return;
  }
}

}  // namespace

asio::awaitable<void> serve_connection(std::shared_ptr<server_core> core, tcp::socket socket) {
  core->stats.connection_opened();
  connection_guard const guard{core->stats};
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (core->tls) {
    tls_stream stream(beast::tcp_stream(std::move(socket)), *core->tls);
    beast::get_lowest_layer(stream).expires_after(handshake_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) {
      core->stats.handshake_failed();
      core->log("TLS handshake failed: " + hec.message());
      co_return;
    }
    bool const resumed = SSL_session_reused(stream.native_handle()) == 1;
    core->stats.handshake(resumed);
    core->log(resumed ? "TLS handshake (resumed)" : "TLS handshake (full)");
    co_await serve_requests(*core, stream);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_requests(*core, stream);
  }
}

}  // namespace velt::mock::detail
