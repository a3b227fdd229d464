// SPDX-License-Identifier: BSL-1.0
#include "client/page_token_chain.hpp"

namespace velt::detail {

result<std::size_t> page_token_chain::accept(std::optional<std::string_view> next) {
  std::size_t const index = next_index_;
  if (!ends_chain(next)) {
    if (token_ && *token_ == *next) {
      // A server that hands back the token it was given would loop forever.
      return make_error_details(make_error_code(errc::malformed_response),
                                "the server returned the same page token again (page " +
                                    std::to_string(index) + ")");
    }
    // Nor one that cycles through several tokens (A, B, A, ...).
    if (used_.contains(std::string(*next))) {
      return make_error_details(make_error_code(errc::malformed_response),
                                "the server returned a page token it had already given (page " +
                                    std::to_string(index) + "): following it would loop");
    }
  }
  ++next_index_;
  if (token_) used_.insert(std::move(*token_));
  if (ends_chain(next)) {
    token_.reset();
    ended_ = true;
  } else {
    token_.emplace(*next);
  }
  return index;
}

}  // namespace velt::detail
