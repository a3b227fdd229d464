// SPDX-License-Identifier: BSL-1.0
// Deterministic pseudo-random numbers for the mock's data set and fault draws: the same seed
// gives the same sequence with every compiler and standard library (no <random>
// distributions, whose results are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace velt::mock::detail {

/// SplitMix64 finaliser: a good 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Combines a hash with another value.
constexpr std::uint64_t hash_combine(std::uint64_t h, std::uint64_t v) noexcept {
  return mix64(h ^ mix64(v + 0x632be59bd9b4e019ull));
}

/// FNV-1a of a string, mixed.
constexpr std::uint64_t hash_string(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return mix64(h);
}

/// A uniform double in [0, 1) from 53 bits of a hash.
constexpr double unit_interval(std::uint64_t h) noexcept {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

/// A small SplitMix64 generator.
class rng {
 public:
  constexpr explicit rng(std::uint64_t seed) noexcept : state_(seed) {}

  constexpr std::uint64_t next() noexcept {
    state_ += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n == 0. (Modulo bias is irrelevant here.)
  constexpr std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
  /// Uniform in [lo, hi] (inclusive); lo when hi < lo.
  constexpr std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    return hi <= lo ? lo : lo + below(hi - lo + 1);
  }
  constexpr double real() noexcept { return unit_interval(next()); }
  constexpr bool chance(double p) noexcept { return real() < p; }
  template <class T, std::size_t N>
  constexpr T const& pick(T const (&items)[N]) noexcept {
    return items[below(N)];
  }

 private:
  std::uint64_t state_;
};

}  // namespace velt::mock::detail
