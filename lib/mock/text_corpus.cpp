// SPDX-License-Identifier: BSL-1.0
#include "text_corpus.hpp"

#include <chrono>
#include <algorithm>
#include <cstdio>

namespace velt::mock::detail {

using namespace std::literals;

namespace {

// Every phrase is valid UTF-8. Some contain characters JSON must escape (quotes,
// backslashes, control characters including NUL), some only look dangerous (markup,
// U+2028/U+2029, BOM, zero-width space).
constexpr std::string_view phrases[] = {
    "Looks good to me, but can we double-check the numbers on slide 4?"sv,
    "Please review the Q3 figures before Friday."sv,
    "Ça marche — on en reparle lundi ? Merci d’avance."sv,
    "Größenänderung der Überschrift bitte prüfen, danke!"sv,
    "¿Podemos mover esto a la siguiente versión? Sí, señor."sv,
    "这个段落需要重新写一下，谢谢。"sv,
    "この図は少し分かりにくいです。修正をお願いします。"sv,
    "이 부분은 다시 확인해 주세요."sv,
    "هذا النص يحتاج إلى مراجعة قبل النشر."sv,
    "יש לבדוק את הכותרת הזאת שוב."sv,
    "Нужно поправить отступы в таблице."sv,
    "कृपया इस अनुभाग की समीक्षा करें।"sv,
    "ตรวจสอบข้อความนี้อีกครั้ง"sv,
    "Ελέγξτε ξανά αυτή την ενότητα."sv,
    "Z\u0364\u0351\u0313a\u0308\u0356\u032dl\u036e\u0312g\u030c\u0317o\u0319\u0314 text with combining marks"sv,
    "e\u0301 vs \u00e9: same glyph, different bytes"sv,
    "👍🏽 Ship it! 🚀🎉"sv,
    "👩‍💻 pairing with 👨‍👩‍👧‍👦, flags 🇩🇪🇯🇵 and keycap 1️⃣"sv,
    "Tab\tseparated\tvalues and a newline\nsecond line\r\nthird"sv,
    "Quotes \"double\" and 'single' and back\\slash \\n (not a newline)"sv,
    "Control characters \x01\x02\x1f, a form feed \f, a backspace \b and NUL \0 inside"sv,
    "<script>alert('x')</script> & &amp; </p><b>bold</b>"sv,
    "Line separator \u2028 and paragraph separator \u2029 in JSON strings"sv,
    "Math: ∑ x² ≤ ∞, π ≈ 3.14159, ½ ¾ ‰"sv,
    "😀😃😄😁😆😅🤣😂🙂🙃"sv,
    "Mixed direction: the word שלום inside English and مرحبا too"sv,
    "BOM \uFEFF and zero width space \u200B and soft hyphen \u00AD here"sv,
    "Supplementary planes: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕏 𠜎𠜱𠝹 🀄"sv,
    "Let's sync on the roadmap tomorrow at 10:00 (UTC+02:00)."sv,
    "Typo in paragraph 3: \"recieve\" → \"receive\"."sv,
    "Can you attach the latest export? The link https://example.com/a?b=1&c=%20 is stale."sv,
    "Tiếng Việt có dấu: Nguyễn, Đặng, Phạm."sv,
    "Ølstykke, Ærøskøbing og Åbenrå."sv,
    "Ünïcödé everywhere: naïve café résumé coöperate"sv,
};

constexpr std::string_view names[] = {
    "Ada Lovelace"sv,       "José Álvarez"sv,         "Zoë Ångström"sv,
    "李小龙"sv,             "山田太郎"sv,             "김민준"sv,
    "محمد علي"sv,           "דוד כהן"sv,              "Ólafur Arnalds"sv,
    "Nguyễn Văn An"sv,      "Øystein Ødegård"sv,      "Ιωάννης Παπαδόπουλος"sv,
    "Дмитрий Иванов"sv,     "Seán O'Brien \"Bobby\""sv, "Renée Zellweger-Smith"sv,
    "Priya Raghunathan"sv,  "Grace Hopper"sv,         "Alan Turing"sv,
    "Fatima Zahra 🌸"sv,    "Björk Guðmundsdóttir"sv,
};

constexpr std::string_view emoji[] = {
    "👍"sv, "❤️"sv, "😂"sv, "🎉"sv, "🚀"sv, "👀"sv, "🙏🏾"sv, "🔥"sv, "✅"sv, "👩‍🚀"sv, "🤔"sv, "💯"sv,
};

}  // namespace

std::string make_text(rng& r, std::size_t target_bytes) {
  std::string out;
  out.reserve(target_bytes + 128);
  do {
    if (!out.empty()) out.push_back(' ');
    out += r.pick(phrases);
  } while (out.size() < target_bytes);
  return out;
}

std::string_view make_phrase(rng& r) { return r.pick(phrases); }

std::string_view person_name(std::uint64_t h) { return names[h % std::size(names)]; }

std::string_view make_emoji(rng& r) { return r.pick(emoji); }

std::string make_id(std::uint64_t h, std::size_t length, bool letters_only) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::size_t const n = letters_only ? 52 : alphabet.size();
  std::string out;
  out.reserve(length);
  rng r(h);
  for (std::size_t i = 0; i < length; ++i) out.push_back(alphabet[r.below(n)]);
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string iso8601(std::int64_t epoch_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> const t{milliseconds{epoch_ms}};
  auto const day = floor<days>(t);
  year_month_day const ymd{day};
  hh_mm_ss const tod{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

std::string make_color(std::uint64_t h) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", static_cast<unsigned>(h & 0xffffff));
  return buf;
}

}  // namespace velt::mock::detail

namespace velt::mock::detail {

std::string_view utf8_prefix(std::string_view s, std::size_t max_code_points) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && n < max_code_points; ++n) {
    auto const c = static_cast<unsigned char>(s[i]);
    std::size_t const len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    i = std::min(s.size(), i + len);
  }
  return s.substr(0, i);
}

}  // namespace velt::mock::detail
