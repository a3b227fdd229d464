// SPDX-License-Identifier: BSL-1.0
#include "core/seen_ids.hpp"

#include <algorithm>

namespace velt::gdpr {

namespace {
__extension__ using u128 = unsigned __int128;

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::size_t initial_slots = 1024;  // a power of two
}  // namespace

id_digest digest_of(std::string_view id) noexcept {
  u128 h = (static_cast<u128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  u128 const prime = (static_cast<u128>(1) << 88) | 0x13bU;
  for (char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= prime;
  }
  id_digest d{static_cast<std::uint64_t>(h >> 64), static_cast<std::uint64_t>(h)};
  if (d == id_digest{}) d.lo = 1;  // keep {0, 0} free to mean "empty"
  return d;
}

seen_ids::seen_ids() : slots_(initial_slots) {}

void seen_ids::clear() {
  slots_.assign(initial_slots, id_digest{});
  slots_.shrink_to_fit();
  size_ = 0;
}

std::size_t seen_ids::find_slot(id_digest d) const noexcept {
  std::size_t const mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(mix(d.hi ^ mix(d.lo))) & mask;
  while (!(slots_[i] == id_digest{}) && !(slots_[i] == d)) i = (i + 1) & mask;
  return i;
}

bool seen_ids::insert(id_digest d) {
  std::size_t const i = find_slot(d);
  if (slots_[i] == d) return false;
  slots_[i] = d;
  ++size_;
  // At most 85 % full: linear probing stays short (about 3 probes for a hit, 23 for a miss
  // at the worst moment), and 100,000 ids fit 131,072 slots (2 MiB) instead of 4 MiB.
  if (size_ * 20 > slots_.size() * 17) grow();
  return true;
}

bool seen_ids::insert(std::string_view id) { return insert(digest_of(id)); }

bool seen_ids::contains(std::string_view id) const {
  id_digest const d = digest_of(id);
  return slots_[find_slot(d)] == d;
}

void seen_ids::grow() { rehash(slots_.size() * 2); }

void seen_ids::reserve(std::size_t ids) {
  ids = std::min(ids, max_reserve_ids);
  std::size_t slots = slots_.size();
  while (ids * 20 > slots * 17) slots *= 2;
  if (slots > slots_.size()) rehash(slots);
}

void seen_ids::rehash(std::size_t slots) {
  std::vector<id_digest> old(slots);
  old.swap(slots_);
  for (id_digest const& d : old) {
    if (!(d == id_digest{})) slots_[find_slot(d)] = d;
  }
}

}  // namespace velt::gdpr
