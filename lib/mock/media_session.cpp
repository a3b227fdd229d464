// SPDX-License-Identifier: BSL-1.0
#include "media_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

// g++ 12 reports a false -Wmismatched-new-delete for Asio's awaitable frames when optimising
// (the frame's operator new and delete are a matching pair).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace velt::mock::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto write_timeout = 10s;
constexpr std::size_t drip_bytes = 1024;
constexpr auto drip_pause = 200ms;
constexpr std::size_t endless_chunk = 64 * 1024;

using headers = std::vector<std::pair<std::string, std::string>>;

bool is_velt_header(std::string_view name) noexcept {
  constexpr std::string_view prefix = "x-velt-";
  if (name.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

/// The same server under the name "localhost" (its certificate has both names).
std::string other_origin(server_core const& core) {
  return std::string(core.opts.tls ? "https://" : "http://") + "localhost:" +
         core.origin.substr(core.origin.rfind(':') + 1);
}

template <class Stream>
asio::awaitable<bool> write_all(Stream& stream, std::string_view head, std::string_view body) {
  beast::get_lowest_layer(stream).expires_after(write_timeout);
  std::array<asio::const_buffer, 2> const buffers{asio::buffer(head), asio::buffer(body)};
  auto [ec, n] = co_await asio::async_write(stream, buffers, use_tuple);
  co_return !ec;
}

/// A response whose body is in memory.
struct plain_answer {
  unsigned status = 200;
  headers fields;  ///< besides Content-Type and Content-Length
  std::string body;
  std::string_view content_type = "text/plain; charset=utf-8";
};

template <class Stream>
asio::awaitable<bool> answer(Stream& stream, server_core& core, plain_answer& a, bool keep_alive) {
  a.fields.emplace(a.fields.begin(), "Content-Type", std::string(a.content_type));
  a.fields.emplace_back("Content-Length", std::to_string(a.body.size()));
  std::string const head = media_head(a.status, a.fields, keep_alive);
  core.stats.media_written(a.body.size());  // before the write: a client may read the stats as soon as it has the body
  bool const ok = co_await write_all(stream, head, a.body);
  co_return ok && keep_alive;
}

template <class Stream>
asio::awaitable<bool> drip(Stream& stream, server_core& core, media_file const& file, bool keep_alive) {
  headers const h{{"Content-Type", std::string(file.content_type)},
                  {"Content-Length", std::to_string(file.bytes.size())}};
  std::string const head = media_head(200, h, keep_alive);
  if (!co_await write_all(stream, head, std::string_view{})) co_return false;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string_view rest = file.bytes;
  while (!rest.empty()) {
    timer.expires_after(drip_pause);
    co_await timer.async_wait(use_tuple);
    std::string_view const part = rest.substr(0, drip_bytes);
    core.stats.media_written(part.size());
    if (!co_await write_all(stream, std::string_view{}, part)) co_return false;
    rest.remove_prefix(part.size());
  }
  co_return keep_alive;
}

/// Zero bytes until the client goes or media_endless_cap is reached; the connection then ends.
template <class Stream>
asio::awaitable<bool> endless(Stream& stream, server_core& core, bool chunked) {
  headers h{{"Content-Type", "video/mp4"}};
  if (chunked) h.emplace_back("Transfer-Encoding", "chunked");
  else h.emplace_back("Content-Length", std::to_string(media_big_length));
  std::string const head = media_head(200, h, false);
  if (!co_await write_all(stream, head, std::string_view{})) co_return false;
  std::string block(endless_chunk, '\0');
  if (chunked) {
    char size[32];
    int const n = std::snprintf(size, sizeof size, "%zx\r\n", endless_chunk);
    block = std::string(size, static_cast<std::size_t>(n)) + block + "\r\n";
  }
  for (std::uint64_t sent = 0; sent < media_endless_cap; sent += endless_chunk) {
    core.stats.media_written(endless_chunk);
    if (!co_await write_all(stream, std::string_view{}, block)) break;
  }
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(stream).socket();
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
  co_return false;
}

plain_answer text_answer(unsigned status, std::string_view text) {
  plain_answer a;
  a.status = status;
  a.body = std::string(text) + "\n";
  return a;
}

plain_answer redirect_to(std::string location) {
  plain_answer a;
  a.status = 302;
  a.fields.emplace_back("Location", std::move(location));
  return a;
}

/// The answer of every kind but the streamed ones (slow, big, bigchunked).
plain_answer in_memory_answer(server_core& core, std::string const& target, media_path const& path) {
  switch (path.kind) {
    case media_kind::not_found: return text_answer(404, "Not Found");
    case media_kind::redirect_same: return redirect_to(core.origin + media_target(media_kind::ok, path.key, path.ext));
    case media_kind::redirect_other: return redirect_to(other_origin(core) + media_target(media_kind::ok, path.key, path.ext));
    case media_kind::redirect_loop: return redirect_to(core.origin + target.substr(0, target.find('?')));
    case media_kind::error_then_ok:
      if (core.media.first_time(target)) return text_answer(500, "Internal Server Error");
      break;
    default: break;
  }
  media_file file = media_bytes(path.key, path.ext);
  plain_answer a;
  a.body = std::move(file.bytes);
  a.content_type = file.content_type;
  return a;
}

template <class Stream>
asio::awaitable<bool> serve(Stream& stream, server_core& core, media_http_request const& req, bool keep_alive) {
  std::string const target(req.target().data(), req.target().size());
  media_request record{target, {}};
  bool velt = false;
  for (auto const& field : req) {
    std::string_view const name(field.name_string().data(), field.name_string().size());
    velt = velt || is_velt_header(name);
    record.headers.emplace_back(std::string(name), std::string(field.value().data(), field.value().size()));
  }
  core.stats.media_request(velt);
  core.media.record(std::move(record));
  core.log("media " + std::string(req.method_string()) + " " + target);

  auto const path = parse_media_path(target);
  if (req.method() != beast::http::verb::get) {
    plain_answer a = text_answer(405, "Method Not Allowed");
    a.fields.emplace_back("Allow", "GET");
    co_return co_await answer(stream, core, a, keep_alive);
  }
  if (!path) {
    plain_answer a = text_answer(404, "Not Found");
    co_return co_await answer(stream, core, a, keep_alive);
  }
  if (path->kind == media_kind::slow) {
    media_file const file = media_bytes(path->key, path->ext);
    co_return co_await drip(stream, core, file, keep_alive);
  }
  if (path->kind == media_kind::big || path->kind == media_kind::big_chunked) {
    bool const chunked = path->kind == media_kind::big_chunked;
    co_return co_await endless(stream, core, chunked);
  }
  plain_answer a = in_memory_answer(core, target, *path);
  co_return co_await answer(stream, core, a, keep_alive);
}

}  // namespace

asio::awaitable<bool> serve_media(asio::ssl::stream<beast::tcp_stream>& stream, server_core& core,
                                  media_http_request const& req, bool keep_alive) {
  return serve(stream, core, req, keep_alive);
}

asio::awaitable<bool> serve_media(beast::tcp_stream& stream, server_core& core, media_http_request const& req,
                                  bool keep_alive) {
  return serve(stream, core, req, keep_alive);
}

}  // namespace velt::mock::detail
