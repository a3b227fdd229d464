// SPDX-License-Identifier: BSL-1.0
// decode_user_data_raw: the same pages, tokens and errors as decode_user_data, with items
// as the server's JSON text. Most tests decode one body both ways and compare.
#include "wire_test_support.hpp"

#include <velt/wire.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using velt::errc;
using velt::test::fixed_now;
using velt::test::response;
using velt::wire::decode_limits;

velt::result<velt::user_data_page> raw(unsigned status, std::string_view body,
                                       decode_limits const& limits = {}) {
  return velt::wire::decode_user_data_raw(response(status, body), limits, fixed_now);
}
velt::result<velt::user_data_page> parsed(unsigned status, std::string_view body,
                                          decode_limits const& limits = {}) {
  return velt::wire::decode_user_data(response(status, body), limits, fixed_now);
}

// The raw page as the parsed form would have it: data object of arrays of parsed items.
json::object as_object(velt::user_data_page const& page, decode_limits const& limits) {
  json::object o;
  for (auto const& f : page.raw_features()) {
    json::array items;
    for (std::string_view item : f.items) {
      auto v = velt::wire::parse_json(item, limits);
      EXPECT_TRUE(v.has_value()) << "item is not valid JSON: " << item.substr(0, 200);
      if (v) items.push_back(std::move(*v));
    }
    o[f.name] = std::move(items);
  }
  return o;
}

// Decodes `body` both ways: the same error, or the same features, items and token.
void expect_same(unsigned status, std::string_view body, decode_limits const& limits = {}) {
  SCOPED_TRACE(std::string(body.substr(0, 200)));
  auto const p = parsed(status, body, limits);
  auto const r = raw(status, body, limits);
  ASSERT_EQ(p.has_value(), r.has_value()) << (p ? r.error().message : p.error().message);
  if (!p) {
    EXPECT_EQ(p.error().code, r.error().code);
    EXPECT_EQ(p.error().message, r.error().message);
    EXPECT_EQ(p.error().http_status, r.error().http_status);
    return;
  }
  EXPECT_EQ(r->format(), velt::page_format::raw);
  EXPECT_TRUE(r->data().empty());
  EXPECT_EQ(r->next_page_token(), p->next_page_token());
  EXPECT_EQ(r->item_count(), p->item_count());
  json::object expected;  // the parsed data without its non-array members
  for (auto const& m : p->data())
    if (m.value().is_array()) expected[m.key()] = m.value();
  EXPECT_TRUE(json::value(as_object(*r, limits)) == json::value(expected));
  std::vector<std::string> order_p, order_r;
  for (auto const& m : expected) order_p.emplace_back(m.key());
  for (auto const& f : r->raw_features()) order_r.push_back(f.name);
  EXPECT_EQ(order_p, order_r);
}

std::string page(std::string_view data, std::string_view result_extra = {}) {
  return std::string(R"({"result":{"status":"success","data":)") + std::string(data) +
         std::string(result_extra) + "}}";
}

TEST(WireRaw, DocumentedPageMatchesParsed) {
  std::string const body = R"({
    "result": {
      "status": "success",
      "message": "Data fetched successfully.",
      "data": {
        "comments": [{"annotationId": "ann-1", "annotationNumber": 12, "createdAt": 1748972106739,
                      "comments": [{"commentText": "Looks good 👍 Zoë 张伟", "isEdited": false}]}],
        "reactions": [{"id": "r1", "icon": "\ud83d\udc4d", "n": -0.5e-3}],
        "recordings": [],
        "notifications": [{"id": "n1", "meta": null, "list": [1, 2.5, true, "x\n\"y\""]}]
      },
      "nextPageToken": "tok-2"
    }
  })";
  expect_same(200, body);
  auto const r = raw(200, body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->raw_features().size(), 4u);
  EXPECT_EQ(r->raw_features()[0].name, "comments");
  EXPECT_EQ(r->raw_features()[1].items.at(0), R"({"id": "r1", "icon": "\ud83d\udc4d", "n": -0.5e-3})");
  EXPECT_FALSE(r->raw_items_compact());
  EXPECT_EQ(r->next_page_token(), "tok-2");
}

TEST(WireRaw, CompactPageIsFlaggedCompactAndKeepsSpelling) {
  auto const r = raw(200, page(R"({"comments":[{"a":1.0,"b":"x y"},2E3],"reactions":[]})"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->raw_items_compact());
  ASSERT_EQ(r->raw_features()[0].items.size(), 2u);
  EXPECT_EQ(r->raw_features()[0].items[0], R"({"a":1.0,"b":"x y"})");
  EXPECT_EQ(r->raw_features()[0].items[1], "2E3");
  EXPECT_TRUE(r->is_last());
}

TEST(WireRaw, EndOfDataFormsAndTokens) {
  expect_same(200, page(R"({"comments":[1]})"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":null)"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":"")"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":"abc")"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":"a\/b\u0041")"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":5)"));
  expect_same(200, page(R"({"comments":[1]})", R"(,"nextPageToken":"a","nextPageToken":"b")"));
  auto const r = raw(200, page(R"({"comments":[1]})", R"(,"nextPageToken":"a\/b")"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->next_page_token(), "a/b");
}

TEST(WireRaw, NullFeaturesAgreeWithParsed) {
  for (std::string_view data : {R"({"comments":[1],"recordings":null})", R"({"recordings":null})",
                                R"({"comments":null,"reactions":[1],"comments":[2]})",
                                R"({"comments":[2],"reactions":[1],"comments":null})",
                                R"({"comments":[2],"reactions":[1],"comments":[3]})",
                                R"({"comments":null,"comments":[2]})", R"({"comments":[2],"comments":null})",
                                R"({"comments":null,"comments":null})", R"({"nextPageToken":null,"reactions":[]})",
                                R"({"comments":nul})", R"({"comments":nulls})"}) {
    expect_same(200, page(data));
  }
  auto const r = raw(200, page(R"({"comments":[1],"recordings":null})"));
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->raw_features().size(), 1u);  // a null feature has no items: not listed
  EXPECT_EQ(r->raw_features()[0].name, "comments");
}

TEST(WireRaw, RepeatedTokenInsideDataAgreesWithParsed) {
  for (std::string_view data : {R"({"nextPageToken":[1],"nextPageToken":"x","comments":[2]})",
                                R"({"nextPageToken":"x","nextPageToken":[1],"comments":[2]})",
                                R"({"nextPageToken":[1],"comments":[2]})",
                                R"({"comments":[2],"nextPageToken":null,"nextPageToken":[3]})"})
    expect_same(200, page(data));
}

TEST(WireRaw, UnknownFeaturesAndStrayTokenInData) {
  expect_same(200, page(R"({"zeta":[{"k":[]}],"comments":[],"alpha":[null]})"));
  expect_same(200, page(R"({"comments":[1],"nextPageToken":"in-data"})"));
  expect_same(200, page(R"({"comments":[1],"nextPageToken":null})"));
  expect_same(200, page(R"({"comments":[1],"nextPageToken":3})"));
  expect_same(200, page(R"({"comments":{}})"));
  expect_same(200, page(R"({"comments":[1],"comments":[2]})"));
  expect_same(200, page(R"({"comm\u0065nts":[1]})"));
  expect_same(200, page(R"({})"));
}

TEST(WireRaw, EnvelopesAndErrorsMatchParsed) {
  for (std::string_view body : {
           R"({"error":{"status":"PERMISSION_DENIED","message":"no"}})",
           R"({"error":"plain text","result":{"data":{}}})",
           R"({"error":null,"result":{"data":{"comments":[1]}}})",
           R"({"result":{"status":"SUCCESS","data":{"comments":[1]}}})",
           R"({"result":{"status":"failed","message":"m","data":{"comments":[1]}}})",
           R"({"result":{"status":"succes\u0073","data":{"comments":[1]}}})",
           R"({"result":{"status":7,"data":{}}})",
           R"({"result":{"data":[]}})",
           R"({"result":{}})",
           R"({"result":[]})",
           R"({"data":{"comments":[]}})",
           R"({"res\u0075lt":{"data":{"comments":[1]}}})",
           R"({"result":{"data":{"comments":[1]}},"result":{"data":{}}})",
           R"({"result":{"data":{"a":[1]},"data":{"b":[2]}}})",
           R"([1,2])",
           "",
           "   ",
           "<html>bad gateway</html>",
           R"({"result":{"data":{"comments":[1]}}} trailing)",
           R"({"result":{"data":{"comments":[1,]}}})",
           R"({"result":{"data":{"comments":[01]}}})",
           R"({"result":{"data":{"comments":[1.]}}})",
           R"({"result":{"data":{"comments":[.5]}}})",
           R"({"result":{"data":{"comments":[-]}}})",
           R"({"result":{"data":{"comments":[1e]}}})",
           R"({"result":{"data":{"comments":[tru]}}})",
           R"({"result":{"data":{"comments":["a\x"]}}})",
           R"({"result":{"data":{"comments":["a\u12G4"]}}})",
           "{\"result\":{\"data\":{\"comments\":[\"tab\there\"]}}}",
           "{\"result\":{\"data\":{\"comments\":[\"\xC3\x28\"]}}}",
           "{\"result\":{\"data\":{\"comments\":[\"\xED\xA0\x80\"]}}}",
           "{\"result\":{\"data\":{\"comments\":[\"\xF4\x90\x80\x80\"]}}}",
           "{\"result\":{\"data\":{\"comments\":[\"\xE0\x80\xAF\"]}}}",
           "{\"result\":{\"data\":{\"comments\":[\"ok \xF0\x9F\x91\x8D \xE2\x82\xAC\"]}}}",
           R"({"result":{"data":{"comments":[{"a":1}]}})",
       })
    expect_same(200, body);
  for (unsigned status : {201u, 204u, 400u, 401u, 403u, 404u, 429u, 500u, 503u})
    expect_same(status, page(R"({"comments":[1]})"));
}

TEST(WireRaw, Utf8IsCheckedWhereverItAppears) {
  // Each sequence, good or bad, at every offset of a string (the search for a string's end
  // reads 16 bytes at a time), in keys, in feature names and outside strings.
  std::vector<std::string> const sequences = {
      "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x91\x8D", "\xCE\x95\xCE\xBB\xCE\xAD",  // good
      "\xC3", "\xC3\x28", "\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\xAF",      // bad
      "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xE2\x82",
      "\xF0\x9F\x91", "\xC3\xA9\x80", "\xE2\x82\xAC\xC3"};
  for (std::string const& seq : sequences) {
    for (std::size_t offset = 0; offset < 40; ++offset) {
      std::string const text = std::string(offset, 'a') + seq + std::string(40 - offset, 'b');
      expect_same(200, page(R"({"comments":[")" + text + R"("]})"));
      expect_same(200, page(R"({"comments":[{")" + text + R"(":1}]})"));
    }
    expect_same(200, page(R"({"comments":[")" + seq + R"("]})"));  // right before the quote
    expect_same(200, page(R"({")" + seq + R"(":[1]})"));           // a feature name
    expect_same(200, page(R"({"comments":[1,)" + seq + "]}"));      // outside strings
    expect_same(200, page(R"({"comments":[1]})") + seq);
    expect_same(200, "{\"result\":{\"status\":\"success\",\"message\":\"" + seq +
                         "\",\"data\":{\"comments\":[1]}}}");
  }
}

TEST(WireRaw, UnpairedSurrogatesBecomeReplacementCharacters) {
  for (std::string_view body : {
           R"({"result":{"data":{"comments":["cut \ud83d"]}}})",
           R"({"result":{"data":{"comments":["\udc4d lone low"]}}})",
           R"({"result":{"data":{"comments":["\ud83d\ud83d"]}}})",
       })
    expect_same(200, body);
  auto const r = raw(200, R"({"result":{"data":{"comments":["cut \ud83d"]}}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->raw_features()[0].items[0], "\"cut \xEF\xBF\xBD\"");
}

TEST(WireRaw, DepthLimitAgreesWithParsed) {
  for (std::size_t limit = 1; limit <= 9; ++limit) {
    for (std::size_t nesting = 0; nesting <= 8; ++nesting) {
      std::string item = std::string(nesting, '[') + "1" + std::string(nesting, ']');
      decode_limits l;
      l.max_depth = limit;
      expect_same(200, page("{\"comments\":[" + item + "]}"), l);
    }
  }
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  decode_limits l;
  l.max_depth = 100000;
  expect_same(200, page("{\"comments\":[" + deep + "]}"), l);
}

TEST(WireRaw, BodyLimitAgreesWithParsed) {
  std::string const body = page(R"({"comments":["0123456789"]})");
  decode_limits l;
  l.max_body_bytes = body.size();
  expect_same(200, body, l);
  l.max_body_bytes = body.size() - 1;
  expect_same(200, body, l);
}

TEST(WireRaw, KeepsNumbersTheParsedFormCannotHold) {
  // Beyond a double: the parsed form refuses the page, the raw form keeps every digit.
  std::string const body = page(R"({"comments":[1e400,123456789012345678901234567890]})");
  EXPECT_FALSE(parsed(200, body));
  auto const r = raw(200, body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->raw_features()[0].items[0], "1e400");
  EXPECT_EQ(r->raw_features()[0].items[1], "123456789012345678901234567890");
}

TEST(WireRaw, ViewsSurviveCopiesAndMoves) {
  std::string body = page(R"({"comments":[{"a":"b"}]})");
  auto r = raw(200, body);
  ASSERT_TRUE(r);
  body.assign(body.size(), 'x');  // the page holds its own copy
  velt::user_data_page copy = *r;
  velt::user_data_page moved = std::move(*r);
  *r = velt::user_data_page();
  EXPECT_EQ(copy.raw_features()[0].items[0], R"({"a":"b"})");
  EXPECT_EQ(moved.raw_features()[0].items[0], R"({"a":"b"})");
}

TEST(WireRaw, AppendCompactJsonDropsOnlyWhitespaceOutsideStrings) {
  std::string out = "[";
  velt::wire::append_compact_json(out, " {\n\t\"a b\" : [ 1 , \"x \\\" y\\\\\" ] ,\r\n\"c\":null } ");
  EXPECT_EQ(out, R"([{"a b":[1,"x \" y\\"],"c":null})");
}

// Random pages, random whitespace: both decoders agree, and compacted raw items equal the
// serialized parsed items.
TEST(WireRaw, RandomPagesAgreeWithParsed) {
  std::mt19937 rng(20261127);
  auto ws = [&] {
    static constexpr char const* spaces[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    return std::string(spaces[rng() % 7]);
  };
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    switch (rng() % (depth > 3 ? 5 : 7)) {
      case 0: return std::to_string(static_cast<std::int64_t>(rng()) - (1ll << 31));
      case 1: return "-" + std::to_string(rng() % 1000) + "." + std::to_string(rng() % 1000) + "e" +
                     std::to_string(static_cast<int>(rng() % 40) - 20);
      case 2: {
        static constexpr char const* strings[] = {"\"\"", "\"plain\"", "\"\\u00e9t\\u00E9\"",
                                                  "\"Zo\xC3\xAB \xE5\xBC\xA0\"", "\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
                                                  "\"\xF0\x9F\x98\x80\"", "\"\\ud83d\\ude00\""};
        return strings[rng() % 7];
      }
      case 3: return (rng() % 3 == 0) ? "null" : (rng() % 2 ? "true" : "false");
      case 4: return "18446744073709551615";
      case 5: {
        std::string s = "[" + ws();
        for (unsigned i = 0, n = rng() % 4; i < n; ++i) s += (i ? "," : "") + ws() + value(depth + 1) + ws();
        return s + "]";
      }
      default: {
        std::string s = "{" + ws();
        for (unsigned i = 0, n = rng() % 4; i < n; ++i)
          s += (i ? "," : "") + ws() + "\"k" + std::to_string(i) + "\"" + ws() + ":" + ws() + value(depth + 1);
        return s + ws() + "}";
      }
    }
  };
  for (int round = 0; round < 300; ++round) {
    std::string data = "{";
    for (unsigned f = 0, n = rng() % 5; f < n; ++f) {
      data += (f ? "," : "") + ws() + "\"f" + std::to_string(f) + "\":" + ws() + "[";
      for (unsigned i = 0, m = rng() % 5; i < m; ++i) data += (i ? "," : "") + ws() + value(0) + ws();
      data += "]";
    }
    data += ws() + "}";
    std::string const body = page(data, rng() % 2 ? R"(,"nextPageToken":"t)" + std::to_string(round) + "\"" : "");
    expect_same(200, body);
    auto const r = raw(200, body);
    ASSERT_TRUE(r);
    for (auto const& f : r->raw_features())
      for (std::string_view item : f.items) {
        std::string compact;
        velt::wire::append_compact_json(compact, item);
        EXPECT_EQ(velt::wire::parse_json(compact).value(), velt::wire::parse_json(item).value());
        if (r->raw_items_compact()) {
          EXPECT_EQ(compact, item);
        }
      }
  }
}

}  // namespace
