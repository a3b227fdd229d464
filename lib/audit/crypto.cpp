// SPDX-License-Identifier: BSL-1.0
#include "audit/crypto.hpp"

#include <velt/audit.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <vector>

namespace velt::audit::detail {

std::array<unsigned char, 32> sha256(std::string_view bytes) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32) {
    throw error(error_kind::io, "SHA-256 failed (OpenSSL)");
  }
  return md;
}

std::string to_hex(std::span<unsigned char const> bytes, bool upper) {
  char const* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) { return to_hex(sha256(bytes)); }

std::string base64(std::span<std::byte const> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int const n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::array<std::byte, 64>> decode_signature_base64(std::string_view text) {
  // 64 bytes encode to 88 characters ending "==" (EVP_DecodeBlock then yields 66 bytes,
  // the last two being the padding's zeros).
  if (text.size() != 88 || text[86] != '=' || text[87] != '=') return std::nullopt;
  for (std::size_t i = 0; i < 86; ++i) {
    char const c = text[i];
    bool const ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  std::array<unsigned char, 66> raw{};
  if (EVP_DecodeBlock(raw.data(), reinterpret_cast<unsigned char const*>(text.data()), 88) != 66) return std::nullopt;
  std::array<std::byte, 64> sig{};
  for (std::size_t i = 0; i < 64; ++i) sig[i] = static_cast<std::byte>(raw[i]);
  // Canonical encoding only: the unused low bits of the last character must be zero.
  if (base64(sig) != text) return std::nullopt;
  return sig;
}

std::string random_hex(std::size_t n) {
  std::vector<unsigned char> bytes(n);
  if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) throw error(error_kind::io, "RAND_bytes failed (OpenSSL)");
  return to_hex(bytes);
}

bool is_lower_hex(std::string_view s, std::size_t n) noexcept {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace velt::audit::detail

namespace velt::audit {

error::error(error_kind kind, std::string const& what) : std::runtime_error(what), kind_(kind) {}

}  // namespace velt::audit
