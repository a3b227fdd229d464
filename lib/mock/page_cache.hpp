// SPDX-License-Identifier: BSL-1.0
// Rendering of get-user-data response bodies and a bounded LRU cache of them, so that serving
// a page costs a lookup, not a JSON generation. Thread-safe.
#pragma once

#include "data_set.hpp"
#include "page_token.hpp"

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace velt::mock::detail {

using shared_body = std::shared_ptr<std::string const>;

/// The success envelope around a page's data: `{"result":{"status":"success","message":
/// "Data fetched successfully.","data":DATA,"nextPageToken":TOKEN}}`, where the token key is
/// left out, null or "" on the last page as `end` says.
std::string render_page(boost::json::object const& data, std::optional<std::string> const& next_token,
                        end_of_data end);

class page_cache {
 public:
  page_cache(data_set const& data, page_token_signer const& signer, std::size_t max_bytes);

  /// The body of page `page` (< u.pages()) of a user's export.
  shared_body page(user_layout const& u, std::size_t page);
  /// The body of the single empty last page served for unknown and deleted users.
  shared_body empty_page(end_of_data end);

  struct counters {
    std::uint64_t hits = 0, misses = 0, evictions = 0;
    std::size_t bytes = 0, entries = 0;
  };
  counters stats() const;

 private:
  using key = std::uint64_t;  // ordinal << 32 | page
  struct entry {
    shared_body body;
    std::list<key>::iterator lru;
  };
  shared_body render(user_layout const& u, std::size_t page) const;

  data_set const& data_;
  page_token_signer const& signer_;
  std::size_t const max_bytes_;
  shared_body empty_[3];

  mutable std::mutex mutex_;
  std::unordered_map<key, entry> entries_;
  std::list<key> lru_;  // front: most recently used
  counters counters_;
};

}  // namespace velt::mock::detail
