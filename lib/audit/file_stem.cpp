// SPDX-License-Identifier: BSL-1.0
// user_file_stem: a user id as one safe file-name component (exports and receipts).
#include "audit/crypto.hpp"

#include <velt/audit.hpp>

#include <stdexcept>

namespace velt::audit {

namespace {
constexpr char upper_hex[] = "0123456789ABCDEF";

bool kept(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
}  // namespace

std::string user_file_stem(std::string_view user_id) {
  if (user_id.empty()) throw std::invalid_argument("user_file_stem: empty user id");
  std::string out;
  out.reserve(user_id.size() + 8);
  bool cut = false;
  for (std::size_t i = 0; i < user_id.size(); ++i) {
    auto const c = static_cast<unsigned char>(user_id[i]);
    bool const keep = kept(c) && !(i == 0 && c == '.');
    std::size_t const width = keep ? 1 : 3;
    if (out.size() + width > max_file_stem_bytes) {
      cut = true;
      break;
    }
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += upper_hex[c >> 4];
      out += upper_hex[c & 0xF];
    }
  }
  if (cut) {
    out += '~';
    out += detail::to_hex(detail::sha256(user_id), /*upper=*/true).substr(0, 32);
  }
  return out;
}

}  // namespace velt::audit
