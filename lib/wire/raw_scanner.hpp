// SPDX-License-Identifier: BSL-1.0
// raw_scanner.hpp: the one-pass JSON scanner behind decode_user_data_raw (decode_raw.cpp):
// RFC 8259 grammar, UTF-8 (an SSE2 fast path for ASCII), depth, and where each item of each
// feature starts and ends. Internal; included by decode_raw.cpp only, so that the scanner's
// hot loops stay inline in the one translation unit that runs them.
#pragma once

#include <velt/model.hpp>
#include <velt/wire.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace velt::wire::raw_scan {


// Nesting the scanner follows by recursion; deeper documents go to the reference decoder
// (whose parser is not recursive) whatever the configured limit.
constexpr std::size_t max_scan_depth = 512;

// 1 for the bytes a string's fast path stops at: '"', '\\' and controls. (UTF-8 is
// validated for the whole body beforehand, so non-ASCII bytes need no look here.)
constexpr std::array<std::uint8_t, 256> string_stops = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c < 0x20 || c == '"' || c == '\\') ? 1 : 0;
  return t;
}();

// The offset of the first string stop in [p, end), or end - p when there is none.
inline std::size_t find_string_stop(char const* p, char const* end) noexcept {
  char const* const start = p;
#if defined(__SSE2__)
  __m128i const quote = _mm_set1_epi8('"');
  __m128i const backslash = _mm_set1_epi8('\\');
  __m128i const control_max = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i const v = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p));
    __m128i const control = _mm_cmpeq_epi8(_mm_min_epu8(v, control_max), v);  // v <= 0x1F
    __m128i const stop =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
    if (int const mask = _mm_movemask_epi8(stop); mask != 0)
      return static_cast<std::size_t>(p - start) +
             static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
    p += 16;
  }
#else
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    auto const zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      // The lowest flagged byte of each test is exact: no byte below the first stop borrows.
      std::uint64_t const mask = zero_byte(w ^ (ones * '"')) | zero_byte(w ^ (ones * '\\')) |
                                 ((w - ones * 0x20) & ~w & highs);
      if (mask != 0)
        return static_cast<std::size_t>(p - start) + static_cast<std::size_t>(std::countr_zero(mask) / 8);
      p += 8;
    }
  }
#endif
  while (p != end && string_stops[static_cast<unsigned char>(*p)] == 0) ++p;
  return static_cast<std::size_t>(p - start);
}

// One well-formed UTF-8 sequence at p (a byte >= 0x80; Unicode table 3-7): its length,
// or 0 when it is not one.
inline std::size_t utf8_sequence_length(unsigned char const* p, unsigned char const* end) noexcept {
  auto const cont = [](unsigned char b, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return b >= lo && b <= hi;
  };
  unsigned char const b0 = p[0];
  std::ptrdiff_t const left = end - p;
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(p[1]) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned char const lo = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned char const hi = b0 == 0xED ? 0x9F : 0xBF;
    return left >= 3 && cont(p[1], lo, hi) && cont(p[2]) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned char const lo = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned char const hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return left >= 4 && cont(p[1], lo, hi) && cont(p[2]) && cont(p[3]) ? 4 : 0;
  }
  return 0;
}

// Whether the whole text is well-formed UTF-8. Outside strings JSON allows ASCII only,
// so this is UTF-8 validation of every string, done once at ASCII speed.
inline bool valid_utf8(std::string_view text) noexcept {
  auto const* p = reinterpret_cast<unsigned char const*>(text.data());
  auto const* const end = p + text.size();
  while (p != end) {
#if defined(__SSE2__)
    while (end - p >= 16) {
      int const mask = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<__m128i const*>(p)));
      if (mask != 0) {
        p += std::countr_zero(static_cast<unsigned>(mask));
        break;
      }
      p += 16;
    }
    if (p == end) break;
#endif
    // Non-ASCII text (Greek, CJK, emoji) comes in runs: stay scalar until an ASCII byte.
    while (p != end && *p >= 0x80) {
      std::size_t const n = utf8_sequence_length(p, end);
      if (n == 0) return false;
      p += n;
    }
    if (p != end) ++p;  // an ASCII byte
  }
  return true;
}

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A string's content (between the quotes) and whether it had escapes.
struct string_span {
  std::string_view text;
  bool escaped = false;
};

class scanner {
 public:
  scanner(std::string_view body, std::size_t max_depth)
      : p_(body.data()), end_(body.data() + body.size()),
        max_depth_(max_depth < max_scan_depth ? max_depth : max_scan_depth) {}

  // The plain documented success shape, or nullopt ("not sure": use the reference decoder).
  struct page {
    std::vector<raw_feature> features;
    std::optional<std::string_view> token;  // unescaped text; empty = last page
    bool compact = true;
  };
  std::optional<page> scan_page() {
    page out;
    bool found_result = false;
    if (!valid_utf8(std::string_view(p_, static_cast<std::size_t>(end_ - p_)))) return std::nullopt;
    skip_ws();
    if (!consume('{') || max_depth_ < 1) return std::nullopt;
    depth_ = 1;
    if (!members([&](string_span key) {
          if (key.escaped) return false;
          if (key.text == "error") return literal_null_or_fail();  // an error envelope
          if (key.text != "result") return value();
          if (found_result || !consume('{')) return false;
          found_result = true;
          return result_object(out);
        }))
      return std::nullopt;
    skip_ws();
    if (p_ != end_ || !found_result) return std::nullopt;
    return out;
  }

 private:
  // ---- the envelope ---------------------------------------------------------------
  bool result_object(page& out) {
    bool seen_status = false, seen_data = false, seen_token = false;
    if (++depth_ > max_depth_) return false;  // 2
    bool const ok = members([&](string_span key) {
      if (key.escaped) return false;
      if (key.text == "status") {
        if (seen_status) return false;
        seen_status = true;
        auto s = string_value();
        return s && !s->escaped && is_success(s->text);
      }
      if (key.text == "data") {
        if (seen_data || !consume('{')) return false;
        seen_data = true;
        return data_object(out);
      }
      if (key.text == "nextPageToken") {
        if (seen_token) return false;
        seen_token = true;
        if (peek() == 'n') return literal_null_or_fail();
        auto s = string_value();
        if (!s || s->escaped) return false;
        out.token = s->text;
        return true;
      }
      return value();
    });
    --depth_;
    return ok && seen_data;
  }

  bool data_object(page& out) {
    if (++depth_ > max_depth_) return false;  // 3
    // Every member name of data met so far: the reference keeps the last value of a
    // repeated name in the place of its first, so any repeat goes to it.
    std::vector<std::string_view> names;
    bool const ok = members([&](string_span key) {
      if (key.escaped) return false;
      for (std::string_view n : names)
        if (n == key.text) return false;
      names.push_back(key.text);
      if (peek() != '[') {
        // A null member is a feature with no items on this page (as a missing one).
        if (peek() == 'n') return literal_null_or_fail();
        // The reference decoder keeps a string "nextPageToken" inside data as data; it is
        // not a feature. Anything else it refuses, with its own message.
        if (key.text != "nextPageToken") return false;
        auto s = string_value();
        return s.has_value();
      }
      // An array named nextPageToken: the reference decides (it is data there).
      if (key.text == "nextPageToken") return false;
      out.features.push_back(raw_feature{std::string(key.text), {}});
      return feature_array(out.features.back(), out.compact);
    });
    --depth_;
    return ok;
  }

  bool feature_array(raw_feature& f, bool& compact) {
    ++p_;  // '['
    if (++depth_ > max_depth_) return false;  // 4
    std::size_t const ws_before = ws_runs_;
    char const* const first = p_;
    skip_ws();
    if (peek() != ']') {
      for (;;) {
        skip_ws();
        char const* start = p_;
        if (!value()) return false;
        f.items.emplace_back(start, static_cast<std::size_t>(p_ - start));
        skip_ws();
        if (!consume(',')) break;
      }
      if (peek() != ']') return false;
    }
    f.text = std::string_view(first, static_cast<std::size_t>(p_ - first));
    ++p_;
    if (ws_runs_ != ws_before) compact = false;
    --depth_;
    return true;
  }

  static bool is_success(std::string_view v) noexcept {
    if (v.size() != 7) return false;
    for (std::size_t i = 0; i < 7; ++i)
      if ((v[i] | 0x20) != "success"[i]) return false;
    return true;
  }

  // ---- generic JSON ------------------------------------------------------------------
  // Calls on_member(key) with the cursor at each member's value; the callback consumes it.
  template <class OnMember>
  bool members(OnMember&& on_member) {
    skip_ws();
    if (consume('}')) return true;
    for (;;) {
      skip_ws();
      if (peek() != '"') return false;
      auto key = string_value();
      if (!key) return false;
      skip_ws();
      if (!consume(':')) return false;
      skip_ws();
      if (!on_member(*key)) return false;
      skip_ws();
      if (consume(',')) continue;
      return consume('}');
    }
  }

  // One JSON value of any kind at the cursor (the hot path: every item goes through here).
  // Iterative, with the kind of each open container in kinds_.
  bool value() {
    std::size_t const base = depth_;
    for (;;) {
      // A value is expected at the cursor.
      skip_ws();
      if (p_ == end_) return false;
      char const c = *p_;
      if (c == '{' || c == '[') {
        ++p_;
        if (++depth_ > max_depth_) return false;
        bool const object = c == '{';
        kinds_[depth_] = object;
        skip_ws();
        if (p_ != end_ && *p_ == (object ? '}' : ']')) {
          ++p_;
          --depth_;
        } else {
          if (object && !key_and_colon()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!skip_string()) return false;
      } else if (c == 't') {
        if (!word("true")) return false;
      } else if (c == 'f') {
        if (!word("false")) return false;
      } else if (c == 'n') {
        if (!word("null")) return false;
      } else if (!number()) {
        return false;
      }
      // A value ended: close containers until one continues with ','.
      for (;;) {
        if (depth_ == base) return true;
        skip_ws();
        if (p_ == end_) return false;
        char const d = *p_++;
        bool const object = kinds_[depth_];
        if (d == ',') {
          if (object && !key_and_colon()) return false;
          break;
        }
        if (d != (object ? '}' : ']')) return false;
        --depth_;
      }
    }
  }

  // An object member's key and the ':' after it (the cursor may be before whitespace).
  bool key_and_colon() {
    skip_ws();
    if (p_ == end_ || *p_ != '"' || !skip_string()) return false;
    skip_ws();
    return consume(':');
  }

  // A string at the cursor ('"'), validated and skipped.
  bool skip_string() {
    ++p_;
    for (;;) {
      p_ += find_string_stop(p_, end_);
      if (p_ == end_) return false;
      unsigned char const c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c != '\\' || !escape()) return false;  // a control character, or a bad escape
    }
  }

  bool literal_null_or_fail() { return peek() == 'n' && word("null"); }

  template <std::size_t N>
  bool word(char const (&w)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, w, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool number() {
    char const* q = p_;
    if (q != end_ && *q == '-') ++q;
    if (q == end_) return false;
    if (*q == '0') {
      ++q;
    } else if (*q >= '1' && *q <= '9') {
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    } else {
      return false;
    }
    if (q != end_ && *q == '.') {
      ++q;
      char const* digits = q;
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
      if (q == digits) return false;
    }
    if (q != end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q != end_ && (*q == '+' || *q == '-')) ++q;
      char const* digits = q;
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
      if (q == digits) return false;
    }
    p_ = q;
    return true;
  }

  // The cursor is at '"'. Validates escapes and controls (UTF-8 is checked beforehand).
  std::optional<string_span> string_value() {
    if (p_ == end_ || *p_ != '"') return std::nullopt;
    char const* const start = p_ + 1;
    if (!skip_string()) return std::nullopt;
    std::string_view const text(start, static_cast<std::size_t>(p_ - 1 - start));
    return string_span{text, text.find('\\') != std::string_view::npos};
  }

  // The cursor is at '\\'.
  bool escape() {
    if (end_ - p_ < 2) return false;
    switch (p_[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p_ += 2;
        return true;
      case 'u': break;
      default: return false;
    }
    auto const unit = hex4(p_ + 2);
    if (unit < 0) return false;
    p_ += 6;
    if (unit < 0xD800 || unit > 0xDFFF) return true;
    if (unit >= 0xDC00) return false;  // a lone low surrogate: the reference replaces it
    if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
    auto const low = hex4(p_ + 2);
    if (low < 0xDC00 || low > 0xDFFF) return false;
    p_ += 6;
    return true;
  }

  int hex4(char const* q) const noexcept {
    if (end_ - q < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      int const h = hex_value(q[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  void skip_ws() noexcept {
    if (p_ == end_ || static_cast<unsigned char>(*p_) > ' ') return;
    char const* const from = p_;
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    if (p_ != from) ++ws_runs_;
  }
  char peek() const noexcept { return p_ != end_ ? *p_ : '\0'; }
  bool consume(char c) noexcept {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  char const* p_;
  char const* end_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  std::size_t ws_runs_ = 0;  // whitespace runs skipped so far
  std::array<bool, max_scan_depth + 1> kinds_{};  // per open container: true = object
};

}  // namespace velt::wire::raw_scan
