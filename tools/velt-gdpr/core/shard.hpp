// SPDX-License-Identifier: BSL-1.0
// shard.hpp: splitting the users of one run over several machines (`--shard K/N`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace velt::gdpr {

/// FNV-1a, 64 bits, of the bytes of `text` (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3). Stable across platforms and releases: shards depend on it.
constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// Shard K of N: the users whose `fnv1a64(UTF-8 id) % N == K`. Shards 0..N-1 are disjoint
/// and together hold every user. The default, 0/1, holds everyone.
struct shard_spec {
  std::uint64_t index = 0;
  std::uint64_t count = 1;

  bool contains(std::string_view user_id) const noexcept {
    return count <= 1 || fnv1a64(user_id) % count == index;
  }
  /// "K/N".
  std::string to_string() const;
};

/// Parses "K/N" (decimal, 0 <= K < N, N >= 1). Throws std::invalid_argument with a message
/// that says what is wrong.
shard_spec parse_shard(std::string_view text);

}  // namespace velt::gdpr
