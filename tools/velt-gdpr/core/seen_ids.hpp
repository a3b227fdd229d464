// SPDX-License-Identifier: BSL-1.0
// seen_ids.hpp: remembering which user ids a run has already met, in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// A 128-bit FNV-1a digest of an id (offset basis 0x6c62272e07bb014262b821756295c58d,
/// prime 2^88 + 0x13b).
struct id_digest {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend bool operator==(id_digest const&, id_digest const&) = default;
};
id_digest digest_of(std::string_view id) noexcept;

/// A set of user ids that stores only their 128-bit digests in one open-addressing table:
/// 16 bytes per slot, at most 85% full, so about 19-38 MB for 1,000,000 distinct ids,
/// whatever their length. Two different ids are taken for the same one only if their
/// 128-bit digests collide (odds about n^2 / 2^129: 1e-27 for a million ids).
class seen_ids {
 public:
  seen_ids();
  /// Records `id`; true when it had not been recorded before.
  bool insert(std::string_view id);
  bool contains(std::string_view id) const;
  /// Sizes the table for `ids` distinct ids at once, so that it never holds an old and a
  /// new table together while growing up to that size (at most `max_reserve_ids`).
  void reserve(std::size_t ids);
  static constexpr std::size_t max_reserve_ids = std::size_t{1} << 18;
  std::size_t size() const noexcept { return size_; }
  /// Bytes held by the table.
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(id_digest); }
  void clear();

 private:
  bool insert(id_digest d);
  std::size_t find_slot(id_digest d) const noexcept;
  void grow();
  void rehash(std::size_t slots);

  std::vector<id_digest> slots_;  // {0, 0} marks an empty slot
  std::size_t size_ = 0;
};

}  // namespace velt::gdpr
