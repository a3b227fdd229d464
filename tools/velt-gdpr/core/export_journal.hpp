// SPDX-License-Identifier: BSL-1.0
// export_journal.hpp: the durable progress of one user's unfinished export.
//
// While a user with many pages is exported, its items are spooled to
// `DIR/.partial/<encoded id>/<n>` (one file per feature, items comma-separated) and its
// progress is recorded now and then in `DIR/.partial/<encoded id>/journal.json`. After
// an interruption (kill -9 included) the next run truncates the spool files to the
// recorded sizes and continues from the recorded page token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// One feature array as spooled so far.
struct journal_feature {
  std::string name;         ///< the feature's key in `data`, e.g. "comments"
  std::uint64_t items = 0;  ///< items written to its spool file
  std::uint64_t bytes = 0;  ///< bytes of its spool file that belong to those items
  friend bool operator==(journal_feature const&, journal_feature const&) = default;
};

/// The state after the last durable page.
struct export_journal {
  std::string organization_id;
  std::string user_id;
  std::uint64_t pages = 0;       ///< pages whose items are all spooled
  std::string next_page_token;   ///< the token of the next page (never empty)
  std::vector<journal_feature> features;  ///< in the order the server first sent them
  friend bool operator==(export_journal const&, export_journal const&) = default;
};

/// `{"version":1,"organizationId":...,"userId":...,"pages":n,"nextPageToken":...,
///   "features":[{"name":...,"items":n,"bytes":n},...]}` and a newline.
std::string to_json_text(export_journal const& j);

/// The journal written by `to_json_text`; std::nullopt for anything else (another
/// version, a torn or edited file).
std::optional<export_journal> parse_journal(std::string_view text);

}  // namespace velt::gdpr
