// SPDX-License-Identifier: BSL-1.0
// The items of the mock's data set, shaped like Velt's data models (comment annotations with
// nested comments, reaction annotations, recordings with attachments, notifications with
// metadata and notifyUsers maps). Every item is a pure function of (seed, user, feature,
// index), so any page can be generated without the ones before it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace velt::mock::detail {

/// The four documented features, in the order pages carry them.
enum class feature : std::size_t { comments, reactions, recordings, notifications };
inline constexpr std::size_t feature_count = 4;
inline constexpr std::array<std::string_view, feature_count> feature_names = {
    "comments", "reactions", "recordings", "notifications"};
/// The undocumented extra feature (`data_profile::extra_feature`).
inline constexpr std::string_view extra_feature_name = "userProfiles";

/// Which users' items carry media on the server's own origin (data_profile::media_users).
enum class media_role { none, ok, faults };

/// Who an item belongs to.
struct item_owner {
  std::uint64_t seed = 0;
  std::string_view organization_id;
  std::string_view user_id;
  std::size_t user_count = 0;  ///< size of the data set, for naming other users
  media_role media = media_role::none;  ///< a media user's items get media URLs (media_items.hpp)
  std::string_view media_base;          ///< "https://127.0.0.1:PORT" with media users
};

/// The `index`-th item (0-based) of a feature of the owner's export.
boost::json::object make_item(feature f, item_owner const& owner, std::size_t index,
                              boost::json::storage_ptr sp = {});

/// The owner's profile, the one item of the extra feature.
boost::json::object make_user_profile(item_owner const& owner, boost::json::storage_ptr sp = {});

}  // namespace velt::mock::detail
