// SPDX-License-Identifier: BSL-1.0
// wire::parse_json: exact doubles, integers kept, limits, malformed input.
#include <velt/wire.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using velt::errc;
using velt::wire::decode_limits;
using velt::wire::parse_json;

std::uint64_t bits(double d) { return std::bit_cast<std::uint64_t>(d); }

// The correctly rounded double of `text` (std::from_chars is exact).
double exact(std::string_view text) {
  double d = 0;
  auto const r = std::from_chars(text.data(), text.data() + text.size(), d);
  EXPECT_EQ(r.ec, std::errc{}) << text;
  return d;
}

double parse_double(std::string const& text) {
  auto const v = parse_json(text);
  EXPECT_TRUE(v.has_value()) << text << ": " << (v ? "" : v.error().message);
  if (!v) return std::nan("");
  EXPECT_TRUE(v->is_double()) << text;
  return v->is_double() ? v->get_double() : std::nan("");
}

std::string to_chars_scientific(double d, int precision = -1) {
  char buf[64];
  auto const r = precision < 0
                     ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific)
                     : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific,
                                     precision);
  return std::string(buf, r.ptr);
}

double random_finite_double(std::mt19937_64& rng) {
  for (;;) {
    double const d = std::bit_cast<double>(rng());
    if (std::isfinite(d)) return d;
  }
}

TEST(JsonExactDoubles, TrickyValues) {
  for (char const* text : {
           "0.1", "0.2", "0.3", "0.30000000000000004", "5e-324", "4.9406564584124654e-324",
           "1.7976931348623157e308", "2.2250738585072014e-308", "2.2250738585072009e-308",
           "2.225073858507201e-308", "9007199254740993.0", "9007199254740993e0", "1e23",
           "8.41e21", "1.7976931348623157E+308", "-0.0", "123.456", "3.141592653589793",
           "2.718281828459045", "1e-7", "1E22", "5.551115123125783e-17",
           "0.1000000000000000055511151231257827021181583404541015625",
           "7.2057594037927933e16", "1.448997445238699", "4.35679025e-317"}) {
    double const got = parse_double(text);
    EXPECT_EQ(bits(got), bits(exact(text))) << text << " parsed as " << got;
  }
  // Signed zero is kept.
  EXPECT_TRUE(std::signbit(parse_double("-0.0")));
}

// Values near the edges that Boost.JSON 1.81's own parser gets wrong: the first rounds to
// DBL_MAX (Boost: infinity), the second to the smallest subnormal (Boost: 0).
TEST(JsonExactDoubles, EdgesBoostGetsWrong) {
  EXPECT_EQ(parse_double("1.7976931348623158e308"), std::numeric_limits<double>::max());
  EXPECT_EQ(parse_double("2.4703282292062328e-324"),
            std::numeric_limits<double>::denorm_min());
}

TEST(JsonExactDoubles, UnderflowIsSignedZero) {
  double const pos = parse_double("1e-400");
  EXPECT_EQ(pos, 0.0);
  EXPECT_FALSE(std::signbit(pos));
  double const neg = parse_double("-1e-400");
  EXPECT_EQ(neg, 0.0);
  EXPECT_TRUE(std::signbit(neg));
  // Just below half the smallest subnormal rounds to zero.
  EXPECT_EQ(parse_double("2.4703282292062327e-324"), 0.0);
  EXPECT_EQ(parse_double("0.0000000000000000000000000000000000000000000000000000000000001e-300"),
            0.0);
}

TEST(JsonExactDoubles, OverflowIsRefused) {
  for (char const* text : {"1e400", "-1e400", "[1.8e308]", "{\"x\":17976931348623159e292}"}) {
    auto const v = parse_json(text);
    ASSERT_FALSE(v.has_value()) << text;
    EXPECT_EQ(v.error().code, velt::make_error_code(errc::malformed_response)) << text;
    EXPECT_NE(v.error().message.find("too large"), std::string::npos) << v.error().message;
  }
}

TEST(JsonExactDoubles, LongMantissas) {
  std::string text = "0.";
  text.append(700, '3');
  text += "e1";
  EXPECT_EQ(bits(parse_double(text)), bits(exact(text)));
  std::string big(300, '9');
  big += ".5";
  EXPECT_EQ(bits(parse_double(big)), bits(exact(big)));
}

// Boost's serializer (Ryu, shortest) and std::to_chars output, parsed back, give the same
// bits, for random bit patterns; and the same for a whole document of them.
TEST(JsonExactDoubles, RandomBitPatternsRoundTrip) {
  std::mt19937_64 rng(20240603);
  int boost_parse_mismatches = 0;
  constexpr int n = 100'000;
  for (int i = 0; i < n; ++i) {
    double const d = random_finite_double(rng);
    std::string const ryu = boost::json::serialize(boost::json::value(d));
    // Boost's serializer is exact: its text converts back to the same double.
    ASSERT_EQ(bits(exact(ryu)), bits(d)) << "Boost.JSON serialized " << d << " as " << ryu;
    ASSERT_EQ(bits(parse_double(ryu)), bits(d)) << ryu;
    std::string const shortest = to_chars_scientific(d);
    ASSERT_EQ(bits(parse_double(shortest)), bits(d)) << shortest;
    std::string const seventeen = to_chars_scientific(d, 16);  // 17 significant digits
    ASSERT_EQ(bits(parse_double(seventeen)), bits(d)) << seventeen;
    if (bits(boost::json::parse(ryu).as_double()) != bits(d)) ++boost_parse_mismatches;
  }
  // Informational: how often boost::json::parse (1.81) is off. About 3 in 10 on 1.81; the
  // test does not depend on it, so a fixed Boost does not fail it.
  std::cout << "[          ] boost::json::parse differed on " << boost_parse_mismatches << " of "
            << n << " values\n";
}

TEST(JsonExactDoubles, DocumentOfManyNumbers) {
  std::mt19937_64 rng(7);
  boost::json::array in;
  for (int i = 0; i < 5000; ++i) {
    double const d = random_finite_double(rng);
    in.emplace_back(boost::json::object{{"x", d}, {"pos", {d, -d}}});
  }
  std::string const text = boost::json::serialize(in);
  auto const out = parse_json(text);
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->is_array());
  ASSERT_EQ(out->get_array().size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto const& a = in[i].get_object();
    auto const& b = out->get_array()[i].get_object();
    ASSERT_EQ(bits(b.at("x").get_double()), bits(a.at("x").get_double())) << i;
    ASSERT_EQ(bits(b.at("pos").get_array()[1].get_double()),
              bits(a.at("pos").get_array()[1].get_double()))
        << i;
  }
  // Serializing the parsed document gives the same text back.
  EXPECT_EQ(boost::json::serialize(*out), text);
}

// A value Boost.JSON 1.81's parser gets wrong by one ULP (found by the random test above):
// -1.9934908051011654E189 (Boost's own serializer output for that double) comes back from
// boost::json::parse as -1.9934908051011656e+189. parse_json is exact; Boost's result is
// only reported, so an upgraded Boost does not fail this test.
TEST(JsonExactDoubles, KnownBoostParseDifference) {
  std::string const text = "-1.9934908051011654E189";
  double const want = exact(text);
  EXPECT_EQ(boost::json::serialize(boost::json::value(want)), text);
  EXPECT_EQ(bits(parse_double(text)), bits(want));
  double const boosts = boost::json::parse(text).as_double();
  if (bits(boosts) != bits(want))
    std::cout << "[          ] boost::json::parse(\"" << text << "\") is off by "
              << static_cast<std::int64_t>(bits(boosts) - bits(want)) << " ULP\n";
}

TEST(JsonIntegers, KeptExactly) {
  auto const v = parse_json(
      R"({"t":1748972106739,"n":-42,"big":9007199254740993,"u":18446744073709551615,)"
      R"("min":-9223372036854775808,"max":9223372036854775807,"zero":0})");
  ASSERT_TRUE(v.has_value());
  auto const& o = v->get_object();
  ASSERT_TRUE(o.at("t").is_int64());
  EXPECT_EQ(o.at("t").get_int64(), 1748972106739);
  EXPECT_EQ(o.at("n").get_int64(), -42);
  ASSERT_TRUE(o.at("big").is_int64());
  EXPECT_EQ(o.at("big").get_int64(), 9007199254740993);  // not representable as a double
  ASSERT_TRUE(o.at("u").is_uint64());
  EXPECT_EQ(o.at("u").get_uint64(), 18446744073709551615ULL);
  EXPECT_EQ(o.at("min").get_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(o.at("max").get_int64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(boost::json::serialize(o.at("t")), "1748972106739");
}

TEST(JsonIntegers, BeyondSixtyFourBitsBecomeExactDoubles) {
  for (char const* text : {"18446744073709551616", "-9223372036854775809",
                           "123456789012345678901234567890"}) {
    auto const v = parse_json(text);
    ASSERT_TRUE(v.has_value()) << text;
    ASSERT_TRUE(v->is_double()) << text;
    EXPECT_EQ(bits(v->get_double()), bits(exact(text))) << text;
  }
}

TEST(JsonStrings, UnicodeKept) {
  auto const v = parse_json(
      R"({"emoji":"😀👍🏽","cjk":"数据保护","esc":"\u00e9\u4e2d\ud83d\ude00","ctl":"a\nb\u0000c"})");
  ASSERT_TRUE(v.has_value());
  auto const& o = v->get_object();
  EXPECT_EQ(o.at("emoji").get_string(), "😀👍🏽");
  EXPECT_EQ(o.at("cjk").get_string(), "数据保护");
  EXPECT_EQ(o.at("esc").get_string(), "é中😀");  // surrogate pair joined
  EXPECT_EQ(std::string_view(o.at("ctl").get_string()), std::string_view("a\nb\0c", 5));
}

// JavaScript's JSON.stringify writes an unpaired surrogate (text cut inside an emoji) as
// an escape; JSON's grammar allows it, UTF-8 cannot hold it. It becomes U+FFFD instead of
// failing the whole page (Boost.JSON 1.81 alone refuses such documents).
TEST(JsonStrings, UnpairedSurrogatesBecomeReplacementCharacter) {
  std::string const fffd = "\xEF\xBF\xBD";
  auto const v = parse_json(
      R"({"lead":"cut \ud83d","trail":"a\udc00b","pair":"\ud83d\ude00","two":"\ud83d\ud83d\ude00",)"
      R"("bs":"\\ud800","\uD800key":1,"next":"\ud800\u0041","last":["\udbff"]})");
  ASSERT_TRUE(v.has_value()) << v.error().message;
  auto const& o = v->get_object();
  EXPECT_EQ(o.at("lead").get_string(), "cut " + fffd);
  EXPECT_EQ(o.at("trail").get_string(), "a" + fffd + "b");
  EXPECT_EQ(o.at("pair").get_string(), "😀");
  EXPECT_EQ(o.at("two").get_string(), fffd + "😀");
  EXPECT_EQ(o.at("bs").get_string(), "\\ud800");  // an escaped backslash, not an escape
  EXPECT_TRUE(o.contains(fffd + "key"));
  EXPECT_EQ(o.at("next").get_string(), fffd + "A");
  EXPECT_EQ(o.at("last").at(0).get_string(), fffd);
  // Documents that are broken for other reasons still fail.
  auto const bad = parse_json(R"({"a":"\ud800",})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, velt::make_error_code(errc::malformed_response));
}

TEST(JsonLimits, BodySize) {
  decode_limits limits;
  limits.max_body_bytes = 10;
  EXPECT_TRUE(parse_json(R"({"a":1234})", limits).has_value());  // exactly 10 bytes
  auto const v = parse_json(R"({"a":12345})", limits);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, velt::make_error_code(errc::response_too_large));
  EXPECT_EQ(v.error().status, velt::status::out_of_range);
  EXPECT_NE(v.error().message.find("11 bytes"), std::string::npos) << v.error().message;
  // Checked before parsing: even invalid JSON over the limit is "too large".
  auto const w = parse_json("not json at all", limits);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, velt::make_error_code(errc::response_too_large));
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += R"({"k":)";
  s += "null";
  s.append(depth, '}');
  return s;
}

TEST(JsonLimits, Depth) {
  decode_limits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(parse_json(nested_arrays(3), limits).has_value());
  EXPECT_TRUE(parse_json(nested_objects(3), limits).has_value());
  for (auto const& text : {nested_arrays(4), nested_objects(4), std::string(R"({"a":[{"b":[]}]})")}) {
    auto const v = parse_json(text, limits);
    ASSERT_FALSE(v.has_value()) << text;
    EXPECT_EQ(v.error().code, velt::make_error_code(errc::response_too_deep)) << text;
    EXPECT_EQ(v.error().status, velt::status::out_of_range);
  }
  // The default is 64 levels.
  EXPECT_TRUE(parse_json(nested_arrays(64)).has_value());
  auto const deep = parse_json(nested_arrays(65));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, velt::make_error_code(errc::response_too_deep));
  // A very deep document fails cleanly (no stack exhaustion).
  auto const very = parse_json(nested_arrays(1'000'000));
  ASSERT_FALSE(very.has_value());
  EXPECT_EQ(very.error().code, velt::make_error_code(errc::response_too_deep));
}

TEST(JsonMalformed, EachFormIsMalformedResponse) {
  for (char const* text : {
           "", " \r\n", "{", R"({"a":1)", "[1,2", R"({"a":"unterminated)", "{} x", "{}{}",
           "nul", "'a'", R"({"a":01})", "[1,]", R"({"a":1,})", "// c\n{}", "{a:1}",
           "<html><body>502 Bad Gateway</body></html>", "Service Unavailable", "NaN",
           "Infinity", "[1e]", "[-]", "[.5]", "\"\xff\"", "\"\xc0\xaf\"", "[\"\t\"]",
           R"(["\x"])", "\xef\xbb\xbf{}" /* byte order mark */}) {
    auto const v = parse_json(text);
    ASSERT_FALSE(v.has_value()) << '"' << text << '"';
    EXPECT_EQ(v.error().code, velt::make_error_code(errc::malformed_response)) << text;
    EXPECT_EQ(v.error().status, velt::status::internal) << text;
    EXPECT_FALSE(v.error().message.empty());
  }
}

TEST(JsonMalformed, MessageNamesPositionNotContent) {
  auto const v = parse_json(R"({"email":"someone@example.com", oops})");
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("byte 32"), std::string::npos) << v.error().message;
  EXPECT_EQ(v.error().message.find("someone"), std::string::npos) << v.error().message;
  auto const empty = parse_json("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos) << empty.error().message;
}

TEST(JsonWellFormed, WhitespaceAndScalars) {
  EXPECT_TRUE(parse_json(" \t\r\n{\"a\":[1,2,3]} \n").has_value());
  auto const s = parse_json("\"x\"");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->get_string(), "x");
  auto const n = parse_json("null");
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(n->is_null());
  auto const b = parse_json("[true,false]");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->get_array()[0], true);
}

TEST(JsonWellFormed, KeyOrderKept) {
  auto const v = parse_json(R"({"z":1,"a":2,"m":3,"b":4})");
  ASSERT_TRUE(v.has_value());
  std::vector<std::string> keys;
  for (auto const& kv : v->get_object()) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m", "b"}));
}

}  // namespace
