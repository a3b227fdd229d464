// SPDX-License-Identifier: BSL-1.0
#include "client/redaction.hpp"

#include <algorithm>
#include <cstddef>

namespace velt::detail {
namespace {

constexpr std::string_view delimiters = " \t\r\n\"'<>";
// Bytes of a secret that, found in a message, start a mask.
constexpr std::size_t prefix_len = 8;

// The value of `digits` in `base` (10 or 16), or -1 when they are not 1 to 6 such digits.
int number(std::string_view digits, int base) {
  int v = 0;
  if (digits.empty() || digits.size() > 6) return -1;
  for (char d : digits) {
    int const x = d >= '0' && d <= '9'                  ? d - '0'
                  : base == 16 && d >= 'a' && d <= 'f' ? d - 'a' + 10
                  : base == 16 && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                       : -1;
    if (x < 0) return -1;
    v = v * base + x;
  }
  return v;
}

// The length of an encoding of `c` at the start of `s`, as a server re-encodes what it
// echoes (JSON: \" \\ \/ \uXXXX; HTML: &quot; &apos; &lt; &gt; &amp; &#NN; &#xHH;), or 0.
std::size_t encoded_length(std::string_view s, char c) {
  int const want = static_cast<unsigned char>(c);
  if (s.size() >= 2 && s[0] == '\\') {
    if (s[1] == c && (c == '"' || c == '\\' || c == '/')) return 2;
    if (s[1] == 'u' && s.size() >= 6 && number(s.substr(2, 4), 16) == want) return 6;
    return 0;
  }
  if (s.size() >= 4 && s[0] == '&') {
    auto const semi = s.substr(0, 10).find(';');
    if (semi == std::string_view::npos) return 0;
    std::string_view const name = s.substr(1, semi - 1);
    int value = -1;
    if (name.size() >= 2 && name[0] == '#')
      value = name[1] == 'x' || name[1] == 'X' ? number(name.substr(2), 16) : number(name.substr(1), 10);
    else if (name == "quot") value = '"';
    else if (name == "apos") value = '\'';
    else if (name == "lt") value = '<';
    else if (name == "gt") value = '>';
    else if (name == "amp") value = '&';
    return value == want ? semi + 1 : 0;
  }
  return 0;
}

}  // namespace

void redact(std::string& text, std::string_view secret) {
  constexpr std::string_view mask = redaction_mask;
  if (secret.empty()) return;
  // Whole occurrences first.
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mask.size()))
    text.replace(pos, secret.size(), mask);
  if (secret.size() < prefix_len) return;
  // Then anything that starts like the secret.
  bool const has_delimiter = secret.find_first_of(delimiters) != std::string_view::npos;
  std::string_view const prefix = secret.substr(0, prefix_len);
  for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + mask.size())) {
    std::size_t end = pos, matched = 0;
    while (matched < secret.size() && end < text.size()) {
      std::size_t const n = text[end] == secret[matched]
                                ? 1
                                : encoded_length(std::string_view(text).substr(end), secret[matched]);
      if (n == 0) break;
      end += n;
      ++matched;
    }
    if (matched < secret.size()) {
      std::size_t from = end;
      if (has_delimiter) from = std::max(from, std::min(text.size(), pos + secret.size()));
      end = text.find_first_of(delimiters, from);
      if (end == std::string::npos) end = text.size();
    }
    text.replace(pos, end - pos, mask);
  }
}

}  // namespace velt::detail
