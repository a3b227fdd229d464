// SPDX-License-Identifier: BSL-1.0
// wire::parse_json: Boost.JSON's basic_parser with a handler that builds the value like
// boost::json::parser does (a value_stack), except that every double is re-parsed from
// its full text with std::from_chars, which rounds correctly. Boost.JSON 1.81's own
// conversion (detail::dec_to_float) is off by one ULP for a large share of doubles (about
// 3 in 10 random bit patterns in our tests) and turns 1.7976931348623158e308 (which
// rounds to DBL_MAX) into infinity.
#include <velt/wire.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace velt::wire {
namespace {

namespace json = boost::json;

// Decimal exponent of the leading significant digit of a JSON number's text, saturated
// (used only to tell overflow from underflow when from_chars reports out of range).
std::int64_t decimal_magnitude(std::string_view text) noexcept {
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  std::size_t int_digits = 0;
  for (std::size_t j = i; j < text.size() && text[j] >= '0' && text[j] <= '9'; ++j)
    ++int_digits;
  std::optional<std::int64_t> leading;  // exponent of the first non-zero digit, before 'e'
  // exponent of the digit at the cursor, before 'e'
  auto position = static_cast<std::int64_t>(int_digits) - 1;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, --position)
    if (!leading && text[i] != '0') leading = position;
  if (i < text.size() && text[i] == '.') {
    ++i;
    position = -1;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, --position)
      if (!leading && text[i] != '0') leading = position;
  }
  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (text[i] - '0');
    if (negative) exponent = -exponent;
  }
  return leading ? *leading + exponent : std::int64_t{-1'000'000'000};
}

// Raised through the parser's error_code when a number cannot be represented.
enum class handler_failure { none, number_out_of_range };

// The handler boost::json::parser uses (detail::handler), with exact doubles.
class exact_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  exact_handler() { st_.reset(); }

  json::value release() { return st_.release(); }
  handler_failure failure() const noexcept { return failure_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st_.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st_.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st_.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st_.push_string(s);
    return true;
  }
  // A number split across input buffers arrives in pieces; the last piece comes with
  // on_int64 / on_uint64 / on_double.
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    st_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    st_.push_uint64(u);
    return true;
  }
  bool on_double(double, json::string_view s, json::error_code& ec) {
    std::string_view text(s.data(), s.size());
    if (!number_.empty()) {
      number_.append(s.data(), s.size());
      text = number_;
    }
    double d = 0;
    auto const [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (err == std::errc::result_out_of_range && decimal_magnitude(text) < 0) {
      // Below half the smallest subnormal: the correctly rounded value is a signed zero.
      d = text.front() == '-' ? -0.0 : 0.0;
    } else if (err != std::errc{} || ptr != text.data() + text.size()) {
      // Beyond DBL_MAX: no double (and no JSON output) can carry it. Refuse rather than
      // keep an infinity that would come out as a different value, or as invalid JSON.
      failure_ = handler_failure::number_out_of_range;
      ec = boost::system::errc::make_error_code(boost::system::errc::result_out_of_range);
      number_.clear();
      return false;
    }
    number_.clear();
    st_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  json::value_stack st_;
  std::string number_;
  handler_failure failure_ = handler_failure::none;
};

error_details parse_failure(errc code, std::string message) {
  return make_error_details(make_error_code(code), std::move(message));
}

std::optional<unsigned> hex4(std::string_view s) noexcept {
  if (s.size() < 4) return std::nullopt;
  unsigned v = 0;
  for (char c : s.substr(0, 4)) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
  }
  return v;
}

// JSON's grammar allows any \uXXXX escape, and JavaScript's JSON.stringify writes an
// unpaired UTF-16 surrogate (e.g. from text cut in the middle of an emoji) as one. Such a
// string has no UTF-8 form and Boost.JSON 1.81 refuses the whole document; this rewrites
// each unpaired surrogate escape as \ufffd (U+FFFD REPLACEMENT CHARACTER, the same length,
// so byte offsets do not move), as JSON parsers that produce UTF-8 conventionally do.
std::string replace_unpaired_surrogates(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size();) {
    char const c = text[i];
    if (c == '"') in_string = !in_string;
    if (!in_string || c != '\\') {
      out += c;
      ++i;
      continue;
    }
    auto const unit = text.substr(i + 1, 1) == "u" ? hex4(text.substr(i + 2)) : std::nullopt;
    if (!unit) {  // another escape (or a broken one, left for the parser to report)
      out.append(text.substr(i, 2));
      i += 2;
      continue;
    }
    if (*unit >= 0xD800 && *unit <= 0xDBFF && text.substr(i + 6, 2) == "\\u") {
      if (auto const low = hex4(text.substr(i + 8)); low && *low >= 0xDC00 && *low <= 0xDFFF) {
        out.append(text.substr(i, 12));  // a proper pair
        i += 12;
        continue;
      }
    }
    if (*unit >= 0xD800 && *unit <= 0xDFFF)
      out += "\\ufffd";
    else
      out.append(text.substr(i, 6));
    i += 6;
  }
  return out;
}

// Whether the text has a \uD800-\uDFFF escape (possibly a false hit after "\\").
bool has_surrogate_escape(std::string_view text) noexcept {
  for (std::size_t i = text.find("\\u"); i != std::string_view::npos;
       i = text.find("\\u", i + 1)) {
    if (i + 3 < text.size() && (text[i + 2] == 'd' || text[i + 2] == 'D')) {
      char const c = text[i + 3];
      if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
        return true;
    }
  }
  return false;
}

struct parse_outcome {
  std::optional<json::value> value;
  json::error_code ec;
  std::size_t consumed = 0;
  handler_failure failure = handler_failure::none;
};

parse_outcome parse_once(std::string_view text, json::parse_options const& options) {
  json::basic_parser<exact_handler> parser(options);
  parse_outcome out;
  out.consumed = parser.write_some(false, text.data(), text.size(), out.ec);
  if (!out.ec && out.consumed < text.size()) out.ec = json::error::extra_data;
  out.failure = parser.handler().failure();
  if (!out.ec) out.value = parser.handler().release();
  return out;
}

}  // namespace

result<boost::json::value> parse_json(std::string_view text, decode_limits const& limits) {
  if (text.size() > limits.max_body_bytes)
    return parse_failure(errc::response_too_large,
                         "response body of " + std::to_string(text.size()) +
                             " bytes exceeds the limit of " +
                             std::to_string(limits.max_body_bytes) + " bytes");

  json::parse_options options;
  options.max_depth = limits.max_depth;
  auto outcome = parse_once(text, options);
  // Boost reports an unpaired surrogate as illegal_*_surrogate or as a syntax error
  // (when the string ends after it): retry any failure once if the text has surrogates.
  if (!outcome.value && outcome.ec != json::error::too_deep &&
      outcome.failure == handler_failure::none && has_surrogate_escape(text))
    outcome = parse_once(replace_unpaired_surrogates(text), options);
  if (outcome.value) return std::move(*outcome.value);

  std::string const where = " at byte " + std::to_string(outcome.consumed);
  if (outcome.ec == json::error::too_deep)
    return parse_failure(errc::response_too_deep,
                         "response JSON is nested deeper than the limit of " +
                             std::to_string(limits.max_depth) + " levels" + where);
  if (outcome.failure == handler_failure::number_out_of_range)
    return parse_failure(errc::malformed_response,
                         "response JSON has a number too large for a double" + where);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return parse_failure(errc::malformed_response, "response body is empty, not JSON");
  return parse_failure(errc::malformed_response,
                       "response body is not valid JSON (" + outcome.ec.message() + where + ")");
}

}  // namespace velt::wire
