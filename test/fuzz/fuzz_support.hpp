// SPDX-License-Identifier: BSL-1.0
// Shared helpers of the fuzzers: a byte reader and checks that abort (so libFuzzer records
// the input) with a message naming the broken invariant.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace velt::fuzz {

/// Aborts with `what` when `ok` is false (a libFuzzer finding).
inline void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "velt fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

/// Consumes a fuzz input from the front.
class reader {
 public:
  reader(std::uint8_t const* data, std::size_t size)
      : s_(reinterpret_cast<char const*>(data), size) {}

  std::uint8_t byte() {
    if (s_.empty()) return 0;
    auto const b = static_cast<std::uint8_t>(s_.front());
    s_.remove_prefix(1);
    return b;
  }
  std::uint32_t u16() { return static_cast<std::uint32_t>(byte()) << 8 | byte(); }
  std::uint32_t u32() { return u16() << 16 | u16(); }
  std::string_view take(std::size_t n) {
    auto const out = s_.substr(0, n);
    s_.remove_prefix(out.size());
    return out;
  }
  std::string_view rest() const { return s_; }

 private:
  std::string_view s_;
};

/// Whether velt's double `a` matches Boost.JSON's `b` as closely as Boost can. velt's
/// parse_json is exact (checked bit for bit by the unit tests and fuzz_json_roundtrip);
/// Boost.JSON 1.81's own conversion is not: it is often one ULP off, two or more for long
/// mantissas ("0.12222292220464473737"), loses subnormals, and turns "0e400" into NaN and
/// 1.7976931348623158e308 into infinity. So: equal to within 1e-9 relative, or both below
/// 1e-300 in magnitude, or Boost's is not finite where velt's is.
inline bool close_to_boost(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(b)) return std::isfinite(a);
  if (std::fabs(a) < 1e-300 && std::fabs(b) < 1e-300) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

/// Deep equality. `exact_doubles`: doubles compare bit for bit (signed zeros included);
/// otherwise `a`'s (velt's) as `close_to_boost` `b`'s.
inline bool same_json(boost::json::value const& a, boost::json::value const& b,
                      bool exact_doubles) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::double_:
      return exact_doubles ? std::bit_cast<std::uint64_t>(a.get_double()) ==
                                 std::bit_cast<std::uint64_t>(b.get_double())
                           : close_to_boost(a.get_double(), b.get_double());
    case boost::json::kind::array: {
      auto const& x = a.get_array();
      auto const& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!same_json(x[i], y[i], exact_doubles)) return false;
      return true;
    }
    case boost::json::kind::object: {
      auto const& x = a.get_object();
      auto const& y = b.get_object();
      if (x.size() != y.size()) return false;
      auto it = y.begin();
      for (auto const& [key, value] : x) {  // same order: the parsers keep it
        if (it->key() != key || !same_json(value, it->value(), exact_doubles)) return false;
        ++it;
      }
      return true;
    }
    default:
      return a == b;
  }
}

/// The documented repair, implemented independently of velt's: inside JSON strings, every
/// \uD800..\uDFFF escape that is not part of a high+low pair becomes \ufffd.
inline std::string repair_unpaired_surrogates(std::string_view text) {
  auto hex4 = [](std::string_view s, std::size_t at) -> int {
    if (at + 4 > s.size()) return -1;
    int v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
      char const c = s[i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    char const c = text[i];
    if (!in_string) {
      in_string = c == '"';
      out += c;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out += c;
      ++i;
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] != 'u') {
      out.append(text.substr(i, 2));
      i += 2;
      continue;
    }
    int const unit = hex4(text, i + 2);
    if (unit < 0) {
      out.append(text.substr(i, 2));
      i += 2;
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF && text.substr(i + 6, 2) == "\\u") {
      int const low = hex4(text, i + 8);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        out.append(text.substr(i, 12));
        i += 12;
        continue;
      }
    }
    out.append(unit >= 0xD800 && unit <= 0xDFFF ? std::string_view("\\ufffd") : text.substr(i, 6));
    i += 6;
  }
  return out;
}

/// Whether the text has a \uD800..\uDFFF escape (any case).
inline bool has_surrogate_escape(std::string_view text) {
  for (auto i = text.find("\\u"); i != std::string_view::npos; i = text.find("\\u", i + 1)) {
    if (i + 3 >= text.size()) break;
    char const d = text[i + 2], c = text[i + 3];
    if ((d == 'd' || d == 'D') && ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                   (c >= 'A' && c <= 'F')))
      return true;
  }
  return false;
}

}  // namespace velt::fuzz
