// SPDX-License-Identifier: BSL-1.0
// An async HTTP server whose request handler awaits a Velt export and streams it to its own
// client page by page, as newline-delimited JSON in a chunked response:
//
//   GET /export/ORGANIZATION_ID/USER_ID
//   → 200, Transfer-Encoding: chunked, one line per page: {"index":0,"data":{...}}; every
//     member of "data" is a feature's array of items, in the server's order and spelling
//     (a feature the server sent as null, no items on that page, is left out)
//   → 502 with {"error":"..."} when the first page fails; a later failure ends the stream
//     with an {"error":"..."} line and no final chunk, so the client sees it incomplete.
//
//   export_in_server [--port N] [--once]
// It prints "listening on http://127.0.0.1:PORT" first. With --once it serves one connection
// and exits. The handler never holds more than one page: pages go out as they arrive.
//
// Cost: the pages are asked for in `page_format::raw`, so each item stays the JSON text the
// server sent and is copied once, into the line that goes out. Nothing is parsed into
// Boost.JSON values and nothing is serialized again. Building a Boost.JSON object around
// `page.data()` instead (`object{{"data", page->data()}}` deep-copies the page) and
// serializing it cost this server about 4 ms of CPU per ~230 KiB page, against 0.8 ms
// now, most of it in malloc and free (BENCHMARKS.md, scenario 5).
#include "example_support.hpp"

#include <velt/client.hpp>
#include <velt/wire.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <tuple>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

// A client that stops reading must not hold its export (and a pooled connection) forever.
constexpr auto write_timeout = std::chrono::seconds(30);

std::string error_json(velt::page_stream const& pages) {
  return boost::json::serialize(boost::json::object{{"error", pages.last_error().to_string()}});
}

asio::awaitable<void> write_simple(beast::tcp_stream& s, http::status st, std::string body,
                                   bool keep_alive) {
  http::response<http::string_body> res{st, 11};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  s.expires_after(write_timeout);
  co_await http::async_write(s, res, tuple_awaitable);
}

// Replaces `line` with one NDJSON line for `page`: {"index":N,"data":{"name":[items],...}}.
// `line` is reused from page to page, so once it has grown to the largest page no more
// memory is allocated: a few large appends per page.
void page_line(velt::user_data_page const& page, std::string& line) {
  line.clear();
  line += R"({"index":)";
  line += std::to_string(page.index());
  line += R"(,"data":{)";
  char const* comma = "";
  for (velt::raw_feature const& f : page.raw_features()) {
    line += std::exchange(comma, ",");
    line += boost::json::serialize(boost::json::string_view(f.name));  // quoted, escaped
    line += ":[";
    if (page.raw_items_compact()) {
      line += f.text;  // the items joined by commas, exactly as the server sent them
    } else {
      // The server's whitespace may hold newlines, which would break the one-line-per-page
      // framing: write each item without it (strings are copied as they are).
      for (std::size_t i = 0; i < f.items.size(); ++i) {
        if (i > 0) line += ',';
        velt::wire::append_compact_json(line, f.items[i]);
      }
    }
    line += ']';
  }
  line += "}}\n";
}

// Streams the export of one user as chunks; the velt::page_stream is consumed one page at a
// time. Clears `keep_alive` when the connection cannot carry another response.
asio::awaitable<void> stream_export(beast::tcp_stream& s, velt::client client, std::string org,
                                    std::string user, bool& keep_alive) {
  // page_format::raw: items as text, validated but not parsed (see the top of the file).
  velt::page_stream pages = client.async_fetch_all_user_data(
      velt::user_data_request{std::move(org), std::move(user), {}}, velt::page_format::raw);
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "application/x-ndjson");
  head.keep_alive(keep_alive);
  head.chunked(true);
  http::response_serializer<http::empty_body> sr{head};
  std::string line;  // reused for every page: no allocation once it fits the largest page

  for (;;) {
    auto [ec, page] = co_await pages.async_next(tuple_awaitable);
    if (ec && !sr.is_header_done()) {
      // The first page is awaited before the status line, so that a failure (credentials
      // refused, the API unreachable) is still an HTTP error status, not a broken 200.
      co_await write_simple(s, http::status::bad_gateway, error_json(pages), keep_alive);
      co_return;
    }
    if (ec) {
      // The status line has gone out: the error becomes the last line, and the response is
      // left without its final chunk, so that even a client that ignores the line sees an
      // incomplete response rather than a complete export with pages missing.
      line = error_json(pages) + "\n";
      s.expires_after(write_timeout);
      co_await asio::async_write(s, http::make_chunk(asio::buffer(line)), tuple_awaitable);
      keep_alive = false;
      co_return;
    }
    beast::error_code wec;
    if (!sr.is_header_done()) {
      s.expires_after(write_timeout);
      std::tie(wec, std::ignore) = co_await http::async_write_header(s, sr, tuple_awaitable);
    }
    if (!wec && !page) {  // after the last page: the final chunk ends the response
      s.expires_after(write_timeout);
      std::tie(wec, std::ignore) =
          co_await asio::async_write(s, http::make_chunk_last(), tuple_awaitable);
      if (!wec) co_return;
    } else if (!wec) {
      page_line(*page, line);
      page.reset();  // its items are in `line` now: hold one copy of the page, not two
      s.expires_after(write_timeout);
      std::tie(wec, std::ignore) =
          co_await asio::async_write(s, http::make_chunk(asio::buffer(line)), tuple_awaitable);
    }
    if (wec) {
      // Our client went away (or stopped reading): returning destroys `pages`, which
      // cancels the export and gives its connection back to the pool. A client that leaves
      // while the next page is on its way is noticed at that page's write.
      keep_alive = false;
      co_return;
    }
  }
}

asio::awaitable<void> serve_connection(tcp::socket socket, velt::client client) {
  beast::tcp_stream s(std::move(socket));
  beast::flat_buffer buffer;
  for (bool keep_alive = true; keep_alive;) {
    http::request<http::string_body> req;
    s.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(s, buffer, req, tuple_awaitable);
    if (ec) break;
    keep_alive = req.keep_alive();
    auto target = boost::urls::parse_origin_form(req.target());
    std::vector<std::string> parts;  // percent-decoded: ids may hold '/', spaces, Unicode
    if (target)
      for (auto seg : target->segments()) parts.push_back(seg);
    if (req.method() != http::verb::get || parts.size() != 3 || parts[0] != "export" ||
        parts[1].empty() || parts[2].empty()) {
      co_await write_simple(s, http::status::not_found, R"({"error":"GET /export/ORG/USER"})",
                            keep_alive);
    } else {
      co_await stream_export(s, client, std::move(parts[1]), std::move(parts[2]), keep_alive);
    }
  }
  beast::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, velt::client client, bool once) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(tuple_awaitable);
    if (ec) co_return;
    if (once) {
      co_await serve_connection(std::move(socket), client);
      co_return;
    }
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), client),
                   asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  bool once = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--once") {
      once = true;
    } else if (a == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::stoi(argv[++i]));
    } else {
      std::cerr << "usage: export_in_server [--port N] [--once]\n";
      return 2;
    }
  }
  auto options = options_from_environment();
  if (!options) return 2;
  try {
    asio::io_context io;
    velt::client client(io.get_executor(), *options);
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
    std::cout << "listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    asio::co_spawn(io, accept_loop(std::move(acceptor), client, once), asio::detached);
    io.run();
  } catch (std::exception const& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
