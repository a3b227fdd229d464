// SPDX-License-Identifier: BSL-1.0
#include "core/shard.hpp"

#include <charconv>
#include <stdexcept>

namespace velt::gdpr {

std::string shard_spec::to_string() const {
  return std::to_string(index) + "/" + std::to_string(count);
}

namespace {
bool parse_number(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

shard_spec parse_shard(std::string_view text) {
  auto const slash = text.find('/');
  shard_spec s;
  if (slash == std::string_view::npos || !parse_number(text.substr(0, slash), s.index) ||
      !parse_number(text.substr(slash + 1), s.count)) {
    throw std::invalid_argument("--shard: expected K/N with decimal numbers, e.g. 0/4, got '" +
                                std::string(text) + "'");
  }
  if (s.count == 0) throw std::invalid_argument("--shard: N must be at least 1");
  if (s.index >= s.count) {
    throw std::invalid_argument("--shard: K must be below N (shards are 0.." +
                                std::to_string(s.count - 1) + ")");
  }
  return s;
}

}  // namespace velt::gdpr
