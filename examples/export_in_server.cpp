// An async HTTP server whose request handler awaits a Velt export and streams it to its own
// client page by page, as newline-delimited JSON in a chunked response:
//
//   GET /export/ORGANIZATION_ID/USER_ID
//   → 200, Transfer-Encoding: chunked, one line per page: {"index":0,"data":{...}}
//
//   export_in_server [--port N] [--once]
// It prints "listening on http://127.0.0.1:PORT" first. With --once it serves one connection
// and exits. The handler never holds more than one page: pages go out as they arrive.
#include "example_support.hpp"

#include <velt/client.hpp>

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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

asio::awaitable<void> write_simple(beast::tcp_stream& s, http::status st, std::string body,
                                   bool keep_alive) {
  http::response<http::string_body> res{st, 11};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  co_await http::async_write(s, res, tuple_awaitable);
}

// Streams the export of one user as chunks; the velt::page_stream is consumed one page at a time.
asio::awaitable<void> stream_export(beast::tcp_stream& s, velt::client client, std::string org,
                                    std::string user) {
  velt::page_stream pages = client.async_fetch_all_user_data({org, user, {}});
  auto [ec, first] = co_await pages.async_next(tuple_awaitable);
  if (ec) {
    boost::json::object err{{"error", pages.last_error().to_string()}};
    co_await write_simple(s, http::status::bad_gateway, boost::json::serialize(err), false);
    co_return;
  }
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "application/x-ndjson");
  head.chunked(true);
  http::response_serializer<http::empty_body> sr{head};
  if (auto [hec, n] = co_await http::async_write_header(s, sr, tuple_awaitable); hec) co_return;

  std::optional<velt::user_data_page> page = std::move(first);
  while (page) {
    boost::json::object line{{"index", page->index()}, {"data", page->data()}};
    std::string text = boost::json::serialize(line) + "\n";
    if (auto [wec, n] = co_await asio::async_write(s, http::make_chunk(asio::buffer(text)),
                                                   tuple_awaitable);
        wec)
      co_return;  // our client went away: destroying `pages` cancels the export
    auto [nec, next] = co_await pages.async_next(tuple_awaitable);
    if (nec) {
      boost::json::object err{{"error", pages.last_error().to_string()}};
      std::string text2 = boost::json::serialize(err) + "\n";
      co_await asio::async_write(s, http::make_chunk(asio::buffer(text2)), tuple_awaitable);
      break;
    }
    page = std::move(next);
  }
  co_await asio::async_write(s, http::make_chunk_last(), tuple_awaitable);
}

asio::awaitable<void> serve_connection(tcp::socket socket, velt::client client) {
  beast::tcp_stream s(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    s.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(s, buffer, req, tuple_awaitable);
    if (ec) break;
    s.expires_never();
    auto target = boost::urls::parse_origin_form(req.target());
    std::vector<std::string> parts;
    if (target)
      for (auto seg : target->segments()) parts.push_back(seg);
    if (req.method() != http::verb::get || parts.size() != 3 || parts[0] != "export") {
      co_await write_simple(s, http::status::not_found, R"({"error":"GET /export/ORG/USER"})",
                            req.keep_alive());
    } else {
      co_await stream_export(s, client, parts[1], parts[2]);
    }
    if (!req.keep_alive()) break;
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
