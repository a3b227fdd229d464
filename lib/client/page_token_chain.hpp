// SPDX-License-Identifier: BSL-1.0
// Sans-I/O state of one user's page-token chain: which token the next request sends, the
// index the next page gets, when the chain ends, and the refusal of a token that would make
// it loop. A page_stream keeps one (on its strand) and asks it after every page.
#pragma once

#include <velt/error.hpp>
#include <velt/wire.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace velt::detail {

/// Whether a page whose `nextPageToken` is `token` is the last one: the API ends a chain
/// with the key absent or null (both `std::nullopt` here) or with `""`.
constexpr bool ends_chain(std::optional<std::string_view> token) noexcept {
  return !token || token->empty();
}

class page_token_chain {
 public:
  /// `first`: the token of the first request (a resumed export), none for page 0.
  explicit page_token_chain(std::optional<std::string> first = std::nullopt)
      : token_(std::move(first)) {}

  /// The token the next request sends (none: the first page).
  std::optional<std::string> const& token() const noexcept { return token_; }
  /// The index the next page gets (0-based), also the number of pages accepted so far.
  std::size_t next_index() const noexcept { return next_index_; }
  /// True once a page without a next token was accepted.
  bool ended() const noexcept { return ended_; }

  /// The page answered for `token()` carries `next` as its `nextPageToken`. Accepts it and
  /// returns the page's index, the chain moving on to `next` (or ending, see `ends_chain`);
  /// or, when following `next` would loop (it is `token()` itself, or any token used
  /// before in this chain: A, B, A), returns `errc::malformed_response` and stays as it is.
  /// Every token used is remembered for the life of the chain (a few dozen bytes a page).
  result<std::size_t> accept(std::optional<std::string_view> next);

 private:
  std::optional<std::string> token_;
  std::unordered_set<std::string> used_;  ///< every token sent before token_
  std::size_t next_index_ = 0;
  bool ended_ = false;
};

}  // namespace velt::detail
