// SPDX-License-Identifier: BSL-1.0
// Page tokens: opaque, base64-like strings bound to (organization, user, page index) and
// authenticated with HMAC-SHA256 under a per-server secret.
//
// Form: base64(0xFB 0xFF 0xBF || HMAC(secret, org \0 user \0 index)[0..13]) followed by the
// decimal page index, e.g. "+/+/Yq3...Qw==2": it always contains '+', '/', '=' and digits
// after the padding, like the token in Velt's docs. Verification recomputes the whole token,
// so any change (a flipped character, another user's or organization's token, garbage) fails.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace velt::mock::detail {

class page_token_signer {
 public:
  explicit page_token_signer(std::string secret);

  /// The token that asks for page `index` of the user's export.
  std::string make(std::string_view organization_id, std::string_view user_id, std::size_t index) const;
  /// The page index a token names, when it is authentic for this organization and user.
  std::optional<std::size_t> verify(std::string_view organization_id, std::string_view user_id,
                                    std::string_view token) const;

 private:
  std::string secret_;
};

/// Standard base64 (with `+`, `/` and `=` padding).
std::string base64_encode(unsigned char const* data, std::size_t size);

}  // namespace velt::mock::detail
