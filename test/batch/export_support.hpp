// SPDX-License-Identifier: BSL-1.0
// The batch export tests' sinks and runner: a sink that keeps every page in memory, and a
// run on an io_context with a time limit.
#pragma once

#include "client/support.hpp"

#include <velt/batch.hpp>
#include <velt/wire.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace velt::test::batch {
namespace asio = boost::asio;

inline mock::server_options data_for(std::size_t users) {
  mock::server_options o;
  o.data.users = users;
  o.data.max_items = 60;
  o.data.heavy_users = 2;
  o.data.heavy_items = 250;
  o.data.extra_feature = true;
  return o;
}

/// What the sinks of a run saw, by user. Thread-safe.
struct sink_log {
  struct user {
    boost::json::object data;
    std::vector<std::size_t> indices;
    std::optional<user_outcome> outcome;
    int restarts = 0;
    int finishes = 0;
  };
  std::mutex mutex;
  std::map<std::string, user> users;
  std::size_t live = 0, max_live = 0;  // sinks between start and finish
  std::map<std::string, resume_point> resume;  // what async_start answers, by user
  std::string throw_on_page_of;                // a user whose first page throws

  user& at(std::string const& id) { return users[id]; }
};

class memory_sink final : public user_sink {
 public:
  memory_sink(sink_log& log, std::string user) : log_(log), user_(std::move(user)) {}
  asio::awaitable<resume_point> async_start() override {
    std::lock_guard lock(log_.mutex);
    log_.max_live = std::max(log_.max_live, ++log_.live);
    auto it = log_.resume.find(user_);
    co_return it == log_.resume.end() ? resume_point{} : it->second;
  }
  asio::awaitable<void> async_restart(error_details const&) override {
    std::lock_guard lock(log_.mutex);
    auto& u = log_.at(user_);
    ++u.restarts;
    u.data = {};
    u.indices.clear();
    co_return;
  }
  asio::awaitable<void> async_page(user_data_page page) override {
    if (user_ == log_.throw_on_page_of) throw std::runtime_error("disk full (a test)");
    std::lock_guard lock(log_.mutex);
    auto& u = log_.at(user_);
    u.indices.push_back(page.index());
    for (auto const& feature : page.raw_features()) {
      auto& target = u.data[feature.name];
      if (!target.is_array()) target = boost::json::array();
      for (std::string_view item : feature.items) target.as_array().push_back(wire::parse_json(item).value());
    }
    co_return;
  }
  asio::awaitable<void> async_finish(user_outcome const& outcome) override {
    std::lock_guard lock(log_.mutex);
    --log_.live;
    auto& u = log_.at(user_);
    u.outcome = outcome;
    ++u.finishes;
    co_return;
  }

 private:
  sink_log& log_;
  std::string user_;
};

inline sink_factory sinks_into(sink_log& log) {
  return [&log](std::string const& user) { return std::make_unique<memory_sink>(log, user); };
}

inline batch_result run_batch(asio::io_context& io, batch_exporter& ex, std::vector<std::string> users,
                       sink_log& log, unsigned threads = 1) {
  std::optional<batch_result> result;
  boost::system::error_code ec;
  ex.async_run(users_from(std::move(users)), sinks_into(log), [&](boost::system::error_code e, batch_result r) {
    ec = e;
    result = std::move(r);
  });
  io.restart();
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run_for(std::chrono::seconds(60)); });
  io.run_for(std::chrono::seconds(60));
  for (auto& t : extra) t.join();
  if (!result) throw std::runtime_error("the batch run did not finish in time");
  EXPECT_FALSE(ec) << ec.message();
  return *result;
}

}  // namespace velt::test::batch
