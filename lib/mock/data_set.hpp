// SPDX-License-Identifier: BSL-1.0
// The mock's deterministic data set: which users exist, how many items each has per
// feature, how those items are laid out on pages (including empty pages and the end form),
// and the items themselves. Sans-I/O and immutable after construction (thread-safe).
#pragma once

#include "items.hpp"

#include <velt/mock/options.hpp>

#include <boost/json/object.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace velt::mock::detail {

/// One user's place in the data set.
struct user_layout {
  std::string id;
  std::size_t ordinal = 0;                       ///< 0-based position in the data set
  std::array<std::size_t, feature_count> counts{};
  std::size_t data_pages = 1;                    ///< pages that carry items (at least 1)
  std::optional<std::size_t> empty_page;         ///< index of the inserted all-empty page
  end_of_data end = end_of_data::absent;         ///< resolved (never mixed)
  bool heavy = false;
  media_role media = media_role::none;           ///< a media user (data_profile::media_users)

  std::size_t pages() const noexcept { return data_pages + (empty_page ? 1 : 0); }
  std::size_t items() const noexcept;
};

/// Which items of each feature a page carries: [first, last) per feature.
struct page_slice {
  std::array<std::size_t, feature_count> first{}, last{};
  bool profile = false;  ///< carries the extra feature's item
  bool exhausted(std::size_t f, std::size_t count) const noexcept { return first[f] >= count && first[f] > 0; }
};

class data_set {
 public:
  /// Throws std::invalid_argument for an impossible profile (page_size 0, min > max, ...,
  /// media users without a `media_base`). `media_base` ("https://127.0.0.1:PORT") is the
  /// origin of the media users' URLs.
  explicit data_set(data_profile profile, std::string media_base = {});

  data_profile const& profile() const noexcept { return profile_; }
  std::string const& organization_id() const noexcept { return profile_.organization_id; }
  std::vector<user_layout> const& users() const noexcept { return users_; }
  /// nullptr when the data set has no such user.
  user_layout const* find(std::string_view user_id) const;

  /// The items of page `page` (< u.pages()).
  page_slice slice(user_layout const& u, std::size_t page) const;
  /// The `data` object of one page.
  boost::json::object page_data(user_layout const& u, std::size_t page,
                                boost::json::storage_ptr sp = {}) const;
  /// Every page's `data` merged: feature -> all items, every key any page carries.
  boost::json::object export_data(user_layout const& u) const;
  /// The `data` object of the single page served for unknown and deleted users.
  boost::json::object empty_data(boost::json::storage_ptr sp = {}) const;
  /// How a user's last page ends when the data set does not know the user.
  end_of_data unknown_user_end() const noexcept;

 private:
  item_owner owner(user_layout const& u) const noexcept;
  /// Appends data_profile::media_users and media_fault_users (ids from media_user_id()).
  void add_media_users();

  data_profile profile_;
  std::string media_base_;
  std::vector<user_layout> users_;
  std::unordered_map<std::string, std::size_t> by_id_;
};

/// The hostile-but-valid ids appended by `data_profile::unusual_user_ids`.
inline constexpr std::string_view unusual_ids[] = {
    "user with space",          "usér-ünïcødé-😀",  "user/with/slashes+plus=eq",
    "user\"quote\\backslash",   "用户-0001",         "user%20percent%2F",
    "user@example.com",         "user.with.dots-and_underscores~tilde",
};

}  // namespace velt::mock::detail
