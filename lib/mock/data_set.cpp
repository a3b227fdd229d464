// SPDX-License-Identifier: BSL-1.0
#include "data_set.hpp"

#include "media_items.hpp"
#include "rng.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace velt::mock::detail {

namespace json = boost::json;

std::size_t user_layout::items() const noexcept {
  return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

namespace {

end_of_data resolve_end(end_of_data e, std::size_t ordinal) {
  if (e != end_of_data::mixed) return e;
  switch ((ordinal + 1) % 3) {
    case 1: return end_of_data::absent;
    case 2: return end_of_data::null;
    default: return end_of_data::empty;
  }
}

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

}  // namespace

data_set::data_set(data_profile profile, std::string media_base)
    : profile_(std::move(profile)), media_base_(std::move(media_base)) {
  auto const& p = profile_;
  if (p.page_size == 0) throw std::invalid_argument("data_profile.page_size must be at least 1");
  if (p.min_items > p.max_items) throw std::invalid_argument("data_profile.min_items exceeds max_items");
  if (!(p.empty_user_fraction >= 0.0 && p.empty_user_fraction <= 1.0)) {
    throw std::invalid_argument("data_profile.empty_user_fraction must be in [0, 1]");
  }
  if (p.organization_id.empty()) throw std::invalid_argument("data_profile.organization_id is empty");
  if (p.unusual_user_ids > std::size(unusual_ids)) {
    throw std::invalid_argument("data_profile.unusual_user_ids is at most " + std::to_string(std::size(unusual_ids)));
  }

  std::size_t const heavy = std::min(p.heavy_users, p.users);
  std::size_t const regular_light = p.users - heavy;
  // Choose the empty users among the light ones by a seeded shuffle.
  std::vector<std::size_t> order(regular_light);
  std::iota(order.begin(), order.end(), std::size_t{0});
  rng shuffle(hash_combine(p.seed, 0xe3c7));
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle.below(i)]);
  auto const wanted_empty = static_cast<std::size_t>(std::llround(p.empty_user_fraction * static_cast<double>(p.users)));
  std::vector<bool> is_empty(regular_light, false);
  for (std::size_t i = 0; i < std::min(wanted_empty, regular_light); ++i) is_empty[order[i]] = true;

  static constexpr std::array<double, feature_count> heavy_scale = {1.0, 0.5, 0.25, 0.8};
  std::size_t const total = p.users + p.unusual_user_ids;
  users_.reserve(total);
  std::size_t with_empty_page = 0;
  for (std::size_t i = 0; i < total; ++i) {
    user_layout u;
    u.ordinal = i;
    u.id = i < p.users ? user_id(i + 1) : std::string(unusual_ids[i - p.users]);
    u.end = resolve_end(p.end, i);
    rng r(hash_combine(p.seed, hash_string(u.id)));
    bool const regular = i < p.users;
    u.heavy = regular && i >= regular_light;
    if (u.heavy) {
      for (std::size_t f = 0; f < feature_count; ++f) {
        u.counts[f] = static_cast<std::size_t>(static_cast<double>(p.heavy_items) * heavy_scale[f]) + r.below(p.page_size);
      }
    } else if (!(regular && is_empty[i])) {
      for (auto& c : u.counts) c = r.between(p.min_items, p.max_items);
    }
    for (auto c : u.counts) u.data_pages = std::max(u.data_pages, ceil_div(c, p.page_size));
    if (p.empty_pages && regular && (i + 1) % 5 == 3 && u.items() > 0) {
      bool const middle = with_empty_page++ % 2 == 0 && u.data_pages >= 2;
      u.empty_page = middle ? r.between(1, u.data_pages - 1) : u.data_pages;
    }
    by_id_.emplace(u.id, i);
    users_.push_back(std::move(u));
  }
  add_media_users();
}

void data_set::add_media_users() {
  auto const& p = profile_;
  if (p.media_users + p.media_fault_users == 0) return;
  if (media_base_.empty()) throw std::invalid_argument("media users need the server's origin (media_base)");
  // After every other user, so that no existing user's draws change.
  for (std::size_t i = 0; i < p.media_users + p.media_fault_users; ++i) {
    bool const faults = i >= p.media_users;
    user_layout u;
    u.ordinal = users_.size();
    u.id = media_user_id(faults ? i - p.media_users + 1 : i + 1, faults);
    u.media = faults ? media_role::faults : media_role::ok;
    u.end = resolve_end(p.end, u.ordinal);
    rng r(hash_combine(p.seed, hash_string(u.id)));
    for (auto& c : u.counts) c = r.between(2, 6);
    for (auto c : u.counts) u.data_pages = std::max(u.data_pages, ceil_div(c, p.page_size));
    by_id_.emplace(u.id, u.ordinal);
    users_.push_back(std::move(u));
  }
}

user_layout const* data_set::find(std::string_view user_id) const {
  auto it = by_id_.find(std::string(user_id));
  return it == by_id_.end() ? nullptr : &users_[it->second];
}

item_owner data_set::owner(user_layout const& u) const noexcept {
  return item_owner{profile_.seed, profile_.organization_id, u.id, profile_.users, u.media, media_base_};
}

page_slice data_set::slice(user_layout const& u, std::size_t page) const {
  page_slice s;
  s.profile = profile_.extra_feature && page == 0;
  if (u.empty_page && page == *u.empty_page) {
    // All arrays empty; "exhaustion" is judged by where the data pages stand.
    for (std::size_t f = 0; f < feature_count; ++f) {
      s.first[f] = s.last[f] = std::min(u.counts[f], page * profile_.page_size);
    }
    return s;
  }
  std::size_t const data_page = (u.empty_page && page > *u.empty_page) ? page - 1 : page;
  for (std::size_t f = 0; f < feature_count; ++f) {
    s.first[f] = std::min(u.counts[f], data_page * profile_.page_size);
    s.last[f] = std::min(u.counts[f], (data_page + 1) * profile_.page_size);
  }
  return s;
}

json::object data_set::page_data(user_layout const& u, std::size_t page, json::storage_ptr sp) const {
  page_slice const s = slice(u, page);
  item_owner const o = owner(u);
  json::object data(sp);
  for (std::size_t f = 0; f < feature_count; ++f) {
    if (profile_.omit_exhausted_features && page > 0 && s.exhausted(f, u.counts[f])) continue;
    json::array items(sp);
    items.reserve(s.last[f] - s.first[f]);
    for (std::size_t j = s.first[f]; j < s.last[f]; ++j) items.push_back(make_item(static_cast<feature>(f), o, j, sp));
    data[feature_names[f]] = std::move(items);
  }
  if (s.profile) data[extra_feature_name] = json::array({make_user_profile(o, sp)}, sp);
  return data;
}

json::object data_set::export_data(user_layout const& u) const {
  item_owner const o = owner(u);
  json::object data;
  for (std::size_t f = 0; f < feature_count; ++f) {
    json::array items;
    items.reserve(u.counts[f]);
    for (std::size_t j = 0; j < u.counts[f]; ++j) items.push_back(make_item(static_cast<feature>(f), o, j));
    data[feature_names[f]] = std::move(items);
  }
  if (profile_.extra_feature) data[extra_feature_name] = json::array({make_user_profile(o)});
  return data;
}

json::object data_set::empty_data(json::storage_ptr sp) const {
  json::object data(sp);
  for (auto name : feature_names) data[name] = json::array(sp);
  if (profile_.extra_feature) data[extra_feature_name] = json::array(sp);
  return data;
}

end_of_data data_set::unknown_user_end() const noexcept {
  return profile_.end == end_of_data::mixed ? end_of_data::absent : profile_.end;
}

}  // namespace velt::mock::detail
