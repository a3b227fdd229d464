// SPDX-License-Identifier: BSL-1.0
#include "stats.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace velt::mock::detail {

namespace {

std::string_view endpoint_name(wire::endpoint e) noexcept {
  switch (e) {
    case wire::endpoint::get_user_data: return "get";
    case wire::endpoint::delete_user_data: return "delete";
    case wire::endpoint::delete_status: return "status";
  }
  return "unknown";
}

}  // namespace

void stats_registry::connection_opened() noexcept {
  connections_accepted_.fetch_add(1, std::memory_order_relaxed);
  auto const now = active_.fetch_add(1, std::memory_order_relaxed) + 1;
  auto seen = max_active_.load(std::memory_order_relaxed);
  while (now > seen && !max_active_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

void stats_registry::connection_closed() noexcept { active_.fetch_sub(1, std::memory_order_relaxed); }

void stats_registry::handshake(bool resumed) noexcept {
  (resumed ? handshakes_resumed_ : handshakes_full_).fetch_add(1, std::memory_order_relaxed);
}

void stats_registry::handshake_failed() noexcept { handshake_failures_.fetch_add(1, std::memory_order_relaxed); }

void stats_registry::idle_closed() noexcept { idle_closes_.fetch_add(1, std::memory_order_relaxed); }

void stats_registry::response_written(std::size_t bytes, bool complete_page) noexcept {
  response_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (complete_page) pages_served_.fetch_add(1, std::memory_order_relaxed);
}

void stats_registry::request(std::optional<wire::endpoint> e, std::string const* user,
                             std::optional<std::size_t> page) {
  std::lock_guard lock(mutex_);
  ++maps_.requests;
  if (e) ++maps_.requests_by_endpoint[*e];
  if (user != nullptr && page) ++maps_.page_requests[{*user, *page}];
}

void stats_registry::fault_fired(fault_kind k) {
  std::lock_guard lock(mutex_);
  ++maps_.faults_injected;
  ++maps_.faults_by_kind[k];
}

void stats_registry::refused(std::uint64_t server_stats::*counter) {
  std::lock_guard lock(mutex_);
  ++(maps_.*counter);
}

server_stats stats_registry::snapshot() const {
  server_stats s;
  {
    std::lock_guard lock(mutex_);
    s = maps_;
  }
  s.connections_accepted = connections_accepted_.load(std::memory_order_relaxed);
  s.handshakes_full = handshakes_full_.load(std::memory_order_relaxed);
  s.handshakes_resumed = handshakes_resumed_.load(std::memory_order_relaxed);
  s.handshake_failures = handshake_failures_.load(std::memory_order_relaxed);
  s.active_connections = active_.load(std::memory_order_relaxed);
  s.max_active_connections = max_active_.load(std::memory_order_relaxed);
  s.idle_closes = idle_closes_.load(std::memory_order_relaxed);
  s.pages_served = pages_served_.load(std::memory_order_relaxed);
  s.response_bytes = response_bytes_.load(std::memory_order_relaxed);
  s.responses_gzip = responses_gzip_.load(std::memory_order_relaxed);
  s.media_requests = media_requests_.load(std::memory_order_relaxed);
  s.media_bytes = media_bytes_.load(std::memory_order_relaxed);
  s.media_requests_with_velt_headers = media_velt_headers_.load(std::memory_order_relaxed);
  return s;
}

void stats_registry::reset() {
  {
    std::lock_guard lock(mutex_);
    maps_ = server_stats{};
  }
  for (auto* c : {&connections_accepted_, &handshakes_full_, &handshakes_resumed_, &handshake_failures_,
                  &idle_closes_, &pages_served_, &response_bytes_, &responses_gzip_, &media_requests_,
                  &media_bytes_, &media_velt_headers_}) {
    c->store(0, std::memory_order_relaxed);
  }
  max_active_.store(active_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

}  // namespace velt::mock::detail

namespace velt::mock {

std::uint64_t server_stats::requests_for(std::string const& user_id, std::size_t page) const {
  auto const it = page_requests.find({user_id, page});
  return it == page_requests.end() ? 0 : it->second;
}

std::uint64_t server_stats::requests_for_user(std::string const& user_id) const {
  std::uint64_t n = 0;
  for (auto it = page_requests.lower_bound({user_id, 0}); it != page_requests.end() && it->first.first == user_id; ++it) {
    n += it->second;
  }
  return n;
}

std::uint64_t server_stats::faults_of(fault_kind k) const {
  auto const it = faults_by_kind.find(k);
  return it == faults_by_kind.end() ? 0 : it->second;
}

std::uint64_t server_stats::requests_to(wire::endpoint e) const {
  auto const it = requests_by_endpoint.find(e);
  return it == requests_by_endpoint.end() ? 0 : it->second;
}

boost::json::object server_stats::to_json() const {
  namespace json = boost::json;
  json::object o;
  o["requests"] = requests;
  o["connections_accepted"] = connections_accepted;
  o["handshakes_full"] = handshakes_full;
  o["handshakes_resumed"] = handshakes_resumed;
  o["handshake_failures"] = handshake_failures;
  o["faults_injected"] = faults_injected;
  o["active_connections"] = active_connections;
  o["max_active_connections"] = max_active_connections;
  o["idle_closes"] = idle_closes;
  o["pages_served"] = pages_served;
  o["response_bytes"] = response_bytes;
  o["responses_gzip"] = responses_gzip;
  o["refused_rate"] = refused_rate;
  o["refused_quota"] = refused_quota;
  o["refused_concurrency"] = refused_concurrency;
  o["refused_outage"] = refused_outage;
  o["media_requests"] = media_requests;
  o["media_bytes"] = media_bytes;
  o["media_requests_with_velt_headers"] = media_requests_with_velt_headers;
  json::object by_kind;
  for (auto const& [k, n] : faults_by_kind) by_kind[to_string(k)] = n;
  o["faults_by_kind"] = std::move(by_kind);
  json::object by_endpoint;
  for (auto const& [e, n] : requests_by_endpoint) by_endpoint[detail::endpoint_name(e)] = n;
  o["requests_by_endpoint"] = std::move(by_endpoint);
  json::object pages;
  for (auto const& [key, n] : page_requests) {
    auto& user = pages[key.first];
    if (!user.is_object()) user = json::object();
    user.get_object()[std::to_string(key.second)] = n;
  }
  o["page_requests"] = std::move(pages);
  return o;
}

}  // namespace velt::mock
