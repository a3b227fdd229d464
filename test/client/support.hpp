// SPDX-License-Identifier: BSL-1.0
// Shared helpers of the client tests: an in-process mock server and a bounded event loop.
#pragma once

#include <velt/client.hpp>
#include <velt/mock/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <string>

namespace velt {
/// Delivery values by name in test failure messages.
inline void PrintTo(delivery d, std::ostream* os) {
  *os << (d == delivery::not_sent          ? "not_sent"
          : d == delivery::maybe_delivered ? "maybe_delivered"
                                           : "answered");
}
}  // namespace velt

namespace velt::test {

using namespace std::chrono_literals;

/// Options of a client that trusts `srv` (fast backoff so tests stay quick), directly: no
/// proxy, whatever HTTPS_PROXY says.
inline client_options options_for(mock::server const& srv) {
  client_options o;
  o.base_url = srv.url();
  o.api_key = srv.api_key();
  o.auth_token = srv.auth_token();
  o.ca_file = srv.ca_file().string();
  o.proxy = "";
  o.max_connections = 8;
  o.retry.initial_backoff = 5ms;
  o.retry.max_backoff = 50ms;
  return o;
}

/// Runs `op` on `io` (optionally with `threads` threads) and fails the test if it does not
/// finish within `limit`. Rethrows what the coroutine threw.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> op,
      std::chrono::seconds limit = std::chrono::seconds(60)) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
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

/// All pages of one user merged in order, and the number of pages (as a client user would).
struct streamed {
  boost::json::object data;
  std::size_t pages = 0;
  bool indices_in_order = true;  ///< and every page in the format asked for
};

/// Streams one user's pages and merges them (raw items are parsed for the comparison).
inline boost::asio::awaitable<streamed> stream_user(velt::client c, std::string org,
                                                    std::string user,
                                                    page_format format = page_format::parsed) {
  streamed out;
  page_stream pages =
      c.async_fetch_all_user_data({.organization_id = org, .user_id = user}, format);
  while (auto page = co_await pages.async_next(boost::asio::use_awaitable)) {
    if (page->index() != out.pages) out.indices_in_order = false;
    if (page->format() != format) out.indices_in_order = false;
    ++out.pages;
    for (auto const& [key, value] : page->data()) {
      auto& target = out.data[key];
      if (!target.is_array()) target = boost::json::array();
      for (auto const& item : value.as_array()) target.as_array().push_back(item);
    }
    for (auto const& feature : page->raw_features()) {
      auto& target = out.data[feature.name];
      if (!target.is_array()) target = boost::json::array();
      for (std::string_view item : feature.items)
        target.as_array().push_back(wire::parse_json(item).value());
    }
  }
  co_return out;
}

/// The export a client should reconstruct: the server's ground truth.
inline boost::json::object expected(mock::server const& srv, std::string const& user) {
  return srv.expected_export(user);
}

/// Features present in `actual` must equal the expectation; missing known features count as
/// empty arrays.
inline ::testing::AssertionResult same_export(boost::json::object const& expected,
                                              boost::json::object const& actual) {
  for (auto const& [key, value] : expected) {
    auto const* got = actual.if_contains(key);
    bool const both_empty = value.as_array().empty() && (!got || got->as_array().empty());
    if (both_empty) continue;
    if (!got) return ::testing::AssertionFailure() << "missing feature " << key;
    if (*got != value)
      return ::testing::AssertionFailure()
             << "feature " << key << " differs: " << got->as_array().size() << " items vs "
             << value.as_array().size() << " expected";
  }
  for (auto const& [key, value] : actual) {
    if (!expected.contains(key) && !value.as_array().empty())
      return ::testing::AssertionFailure() << "unexpected feature " << key;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace velt::test
