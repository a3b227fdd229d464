// SPDX-License-Identifier: BSL-1.0
#include "page_cache.hpp"

#include "json_writer.hpp"

#include <boost/json/monotonic_resource.hpp>

namespace velt::mock::detail {

std::string render_page(boost::json::object const& data, std::optional<std::string> const& next_token,
                        end_of_data end) {
  std::string out;
  out.reserve(64 * 1024);
  out += R"({"result":{"status":"success","message":"Data fetched successfully.","data":)";
  write_json(out, data);
  if (next_token) {
    out += R"(,"nextPageToken":)";
    write_json_string(out, *next_token);
  } else if (end == end_of_data::null) {
    out += R"(,"nextPageToken":null)";
  } else if (end == end_of_data::empty) {
    out += R"(,"nextPageToken":"")";
  }
  out += "}}";
  out.shrink_to_fit();
  return out;
}

page_cache::page_cache(data_set const& data, page_token_signer const& signer, std::size_t max_bytes)
    : data_(data), signer_(signer), max_bytes_(max_bytes) {
  for (auto e : {end_of_data::absent, end_of_data::null, end_of_data::empty}) {
    empty_[static_cast<int>(e)] = std::make_shared<std::string const>(render_page(data_.empty_data(), std::nullopt, e));
  }
}

shared_body page_cache::empty_page(end_of_data end) {
  return empty_[end == end_of_data::mixed ? 0 : static_cast<int>(end)];
}

shared_body page_cache::render(user_layout const& u, std::size_t page) const {
  boost::json::monotonic_resource arena;
  auto const data = data_.page_data(u, page, &arena);
  std::optional<std::string> token;
  if (page + 1 < u.pages()) token = signer_.make(data_.organization_id(), u.id, page + 1);
  return std::make_shared<std::string const>(render_page(data, token, u.end));
}

shared_body page_cache::page(user_layout const& u, std::size_t page) {
  key const k = (static_cast<std::uint64_t>(u.ordinal) << 32) | static_cast<std::uint64_t>(page);
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(k); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      ++counters_.hits;
      return it->second.body;
    }
    ++counters_.misses;
  }
  // Render outside the lock; two threads may render the same page once each, harmlessly.
  shared_body body = render(u, page);
  std::lock_guard lock(mutex_);
  if (entries_.count(k) != 0 || body->size() > max_bytes_) return body;
  lru_.push_front(k);
  entries_.emplace(k, entry{body, lru_.begin()});
  counters_.bytes += body->size();
  while (counters_.bytes > max_bytes_ && !lru_.empty()) {
    auto const victim = entries_.find(lru_.back());
    counters_.bytes -= victim->second.body->size();
    entries_.erase(victim);
    lru_.pop_back();
    ++counters_.evictions;
  }
  counters_.entries = entries_.size();
  return body;
}

page_cache::counters page_cache::stats() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace velt::mock::detail
