// SPDX-License-Identifier: BSL-1.0
// crypto.hpp: the small OpenSSL pieces the audit library shares (SHA-256, hex, base64,
// random run ids), so that no other file repeats an EVP call.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace velt::audit::detail {

/// SHA-256 of `bytes`.
std::array<unsigned char, 32> sha256(std::string_view bytes);
/// Hex of `bytes`, lower case unless `upper`.
std::string to_hex(std::span<unsigned char const> bytes, bool upper = false);
/// Lower-case hex SHA-256 of `bytes` (the log's `h`, `sha256`, `keySha256`).
std::string sha256_hex(std::string_view bytes);
/// Standard base64 with padding.
std::string base64(std::span<std::byte const> bytes);
/// Decodes exactly 88 base64 characters into a 64-byte signature; nullopt otherwise.
std::optional<std::array<std::byte, 64>> decode_signature_base64(std::string_view text);
/// `n` random bytes (RAND_bytes) as lower-case hex.
std::string random_hex(std::size_t n);
/// Whether `s` is `n` lower-case hex digits.
bool is_lower_hex(std::string_view s, std::size_t n) noexcept;

}  // namespace velt::audit::detail
