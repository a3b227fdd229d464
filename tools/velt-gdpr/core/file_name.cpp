// SPDX-License-Identifier: BSL-1.0
#include "core/file_name.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace velt::gdpr {

namespace {
constexpr char hex_digits[] = "0123456789ABCDEF";

bool kept(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string sha256_hex_prefix(std::string_view bytes, std::size_t digits) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  std::string out;
  for (unsigned i = 0; i < len && out.size() < digits; ++i) {
    out += hex_digits[md[i] >> 4];
    out += hex_digits[md[i] & 0xF];
  }
  return out;
}
}  // namespace

std::string encode_user_id(std::string_view user_id) {
  if (user_id.empty()) throw std::invalid_argument("encode_user_id: empty user id");
  std::string out;
  out.reserve(user_id.size() + 8);
  bool cut = false;
  for (std::size_t i = 0; i < user_id.size(); ++i) {
    auto const c = static_cast<unsigned char>(user_id[i]);
    bool const keep = kept(c) && !(i == 0 && c == '.');
    std::size_t const width = keep ? 1 : 3;
    if (out.size() + width > max_encoded_id_bytes) {
      cut = true;
      break;
    }
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0xF];
    }
  }
  if (cut) {
    out += '~';
    out += sha256_hex_prefix(user_id, 32);
  }
  return out;
}

std::string export_file_name(std::string_view user_id) {
  return encode_user_id(user_id) + ".json";
}

}  // namespace velt::gdpr
