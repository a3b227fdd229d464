// SPDX-License-Identifier: BSL-1.0
// Helpers of the hardening tests: a bounded event loop, resource probes (/proc), a raw
// plain-HTTP loopback server whose answers are scripted byte for byte, and a loopback TLS
// server whose protocol versions are chosen by the test.
#pragma once

#include "../support/raw_http_server.hpp"

#include <velt/client.hpp>
#include <velt/mock/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace velt {
/// Delivery values by name in test failure messages.
inline void PrintTo(delivery d, std::ostream* os) {
  *os << (d == delivery::not_sent          ? "not_sent"
          : d == delivery::maybe_delivered ? "maybe_delivered"
                                           : "answered");
}
}  // namespace velt

namespace velt::hardening {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// ---- event loop ---------------------------------------------------------------------------

/// Runs `op` on `io` and fails (throws) if it does not finish within `limit`.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> op, std::chrono::milliseconds limit = 30s) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) value.emplace(std::move(v));
    done = true;
  });
  io.restart();
  io.run_for(limit);
  if (!done) throw std::runtime_error("the operation did not finish in time");
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

// ---- resource probes ------------------------------------------------------------------------

/// Number of open file descriptors of this process.
inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n > 0 ? n - 1 : 0;  // the directory stream's own descriptor
}

/// Resident set size in bytes (/proc/self/statm, second field).
inline std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// A loopback TCP port with nothing listening on it: bound, then closed again.
inline std::uint16_t closed_port() {
  std::uint16_t port = 0;
  int const fd = velt::test::bind_loopback(port, /*backlog=*/0);
  if (fd < 0) throw std::runtime_error("closed_port: cannot bind");
  ::close(fd);
  return port;
}

// ---- raw plain-HTTP server (test/support/raw_http_server.hpp) ---------------------------

using velt::test::loopback_listener;
using velt::test::raw_http_server;
using velt::test::raw_request;
using velt::test::read_request;
using velt::test::send_all;

/// "HTTP/1.1 <status>" response with the given extra header lines (each ending CRLF) and body.
inline std::string http_response(unsigned status, std::string const& body,
                                 std::string const& extra_headers = "",
                                 std::string const& content_type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

/// A one-page user-data success body.
inline std::string one_page_body() {
  return R"({"result":{"status":"success","message":"Data fetched successfully.",)"
         R"("data":{"comments":[{"commentId":1,"commentText":"hi"}],"reactions":[],)"
         R"("recordings":[],"notifications":[]}}})";
}

/// Client options for a plain-HTTP loopback peer: small timeouts and fast retries.
inline client_options plain_options(std::string url) {
  client_options o;
  o.base_url = std::move(url);
  o.allow_plain_http = true;
  o.api_key = "hardening-API-KEY-5f3c9e0d";
  o.auth_token = "hardening-AUTH-TOKEN-a7d2b41c";
  o.max_connections = 4;
  o.timeouts.connect = 2s;
  o.timeouts.request = 5s;
  o.timeouts.idle_read = 2s;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  o.retry.max_retry_after = 10ms;
  return o;
}

/// The outcome of one page_stream over all its pages.
struct stream_outcome {
  boost::system::error_code ec;
  error_details error;
  std::size_t pages = 0;
  boost::json::object data;  ///< merged features of the pages delivered
  bool indices_in_order = true;
};

/// Streams every page of `user` (named request: see the g++ 12 note in the README).
inline asio::awaitable<stream_outcome> drain_stream(velt::client c, std::string org,
                                                    std::string user) {
  stream_outcome out;
  user_data_request request{.organization_id = std::move(org), .user_id = std::move(user)};
  page_stream pages = c.async_fetch_all_user_data(std::move(request));
  for (;;) {
    auto [ec, page] = co_await pages.async_next(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      out.ec = ec;
      out.error = pages.last_error();
      break;
    }
    if (!page) break;
    if (page->index() != out.pages) out.indices_in_order = false;
    ++out.pages;
    for (auto const& [key, value] : page->data()) {
      if (!value.is_array()) continue;
      auto& target = out.data[key];
      if (!target.is_array()) target = boost::json::array();
      for (auto const& item : value.as_array()) target.as_array().push_back(item);
    }
  }
  co_return out;
}

/// Streams org-1/user-1 once with a fresh client and io_context.
inline stream_outcome fetch_once(client_options o) {
  asio::io_context io;
  velt::client c(io.get_executor(), std::move(o));
  return run(io, drain_stream(c, "org-1", "user-1"));
}

/// A per-process scratch directory for a test server's certificate files.
inline std::filesystem::path scratch_dir(std::string const& suite) {
  auto dir = std::filesystem::temp_directory_path() /
             ("velt-hardening-" + suite + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

/// Features of `actual` equal `expected` exactly (a missing feature counts as empty).
inline ::testing::AssertionResult same_export(boost::json::object const& expected,
                                              boost::json::object const& actual) {
  for (auto const& [key, value] : expected) {
    auto const* got = actual.if_contains(key);
    if (value.as_array().empty() && (!got || got->as_array().empty())) continue;
    if (!got) return ::testing::AssertionFailure() << "missing feature " << key;
    if (*got != value)
      return ::testing::AssertionFailure() << "feature " << key << ": " << got->as_array().size()
                                           << " items, expected " << value.as_array().size();
  }
  for (auto const& [key, value] : actual)
    if (!expected.contains(key) && !value.as_array().empty())
      return ::testing::AssertionFailure() << "unexpected feature " << key;
  return ::testing::AssertionSuccess();
}

/// Every feature of `actual` is a prefix of the same feature of `expected`: nothing
/// duplicated, nothing out of order, nothing invented (a stream that ended early).
inline ::testing::AssertionResult is_prefix_export(boost::json::object const& expected,
                                                   boost::json::object const& actual) {
  for (auto const& [key, value] : actual) {
    auto const& got = value.as_array();
    auto const* want = expected.if_contains(key);
    if (!want) {
      if (got.empty()) continue;
      return ::testing::AssertionFailure() << "unexpected feature " << key;
    }
    auto const& w = want->as_array();
    if (got.size() > w.size())
      return ::testing::AssertionFailure() << "feature " << key << " has " << got.size()
                                           << " items, more than the " << w.size() << " expected";
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != w[i])
        return ::testing::AssertionFailure() << "feature " << key << " differs at item " << i;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace velt::hardening
