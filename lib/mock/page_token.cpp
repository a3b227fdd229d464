// SPDX-License-Identifier: BSL-1.0
#include "page_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace velt::mock::detail {

namespace {
constexpr std::size_t mac_bytes = 13;
constexpr std::array<unsigned char, 3> header = {0xFB, 0xFF, 0xBF};  // encodes as "+/+/"
constexpr std::size_t max_index = 100'000'000;
}  // namespace

std::string base64_encode(unsigned char const* data, std::size_t size) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < size; i += 3) {
    unsigned const v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < size) {
    unsigned v = unsigned{data[i]} << 16;
    if (i + 1 < size) v |= unsigned{data[i + 1]} << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < size ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

page_token_signer::page_token_signer(std::string secret) : secret_(std::move(secret)) {
  if (secret_.empty()) throw std::invalid_argument("page token secret is empty");
}

std::string page_token_signer::make(std::string_view organization_id, std::string_view user_id,
                                    std::size_t index) const {
  std::string message;
  message.reserve(organization_id.size() + user_id.size() + 24);
  message.append(organization_id).push_back('\0');
  message.append(user_id).push_back('\0');
  message += std::to_string(index);

  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<unsigned char const*>(message.data()), message.size(), mac.data(),
           &mac_len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::array<unsigned char, header.size() + mac_bytes> raw{};
  std::copy(header.begin(), header.end(), raw.begin());
  std::copy_n(mac.begin(), mac_bytes, raw.begin() + header.size());
  std::string token = base64_encode(raw.data(), raw.size());
  token += std::to_string(index);
  return token;
}

std::optional<std::size_t> page_token_signer::verify(std::string_view organization_id,
                                                     std::string_view user_id,
                                                     std::string_view token) const {
  auto const pad = token.rfind('=');
  if (pad == std::string_view::npos || pad + 1 >= token.size()) return std::nullopt;
  std::string_view const digits = token.substr(pad + 1);
  if (digits.size() > 9) return std::nullopt;
  std::size_t index = 0;
  auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size() || index > max_index) return std::nullopt;
  std::string const expected = make(organization_id, user_id, index);
  if (expected.size() != token.size() || CRYPTO_memcmp(expected.data(), token.data(), token.size()) != 0) {
    return std::nullopt;
  }
  return index;
}

}  // namespace velt::mock::detail
