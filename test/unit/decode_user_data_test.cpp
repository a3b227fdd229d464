// SPDX-License-Identifier: BSL-1.0
// decode_user_data: the documented success shape, end of data, features kept verbatim,
// and every kind of bad body.
#include "wire_test_support.hpp"

#include <velt/wire.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

namespace {

using velt::errc;
using velt::test::fixed_now;
using velt::test::response;
using velt::wire::decode_limits;

velt::result<velt::user_data_page> decode(unsigned status, std::string_view body,
                                          decode_limits const& limits = {}) {
  return velt::wire::decode_user_data(response(status, body), limits, fixed_now);
}

// A page shaped as in the API notes, with items shaped like Velt's data models.
constexpr char const* documented_page = R"({
  "result": {
    "status": "success",
    "message": "Data fetched successfully.",
    "data": {
      "comments": [
        {"annotationId": "ann-1", "annotationNumber": 12, "createdAt": 1748972106739,
         "lastUpdated": 1748972106740,
         "comments": [{"commentId": 846253, "type": "text", "commentText": "Looks good 👍",
                       "commentHtml": "<p>Looks good 👍</p>", "status": "added",
                       "createdAt": "2025-06-03T17:35:06.739Z", "isEdited": false,
                       "from": {"userId": "user-1", "name": "Zoë 张伟", "email": "z@example.com"}}],
         "from": {"userId": "user-1", "organizationId": "org-1"},
         "status": {"id": "OPEN", "name": "Open", "color": "#625DF5", "type": "default"},
         "position": {"x": 0.30000000000000004, "y": 1.0442758598704387e-216, "scale": 1.5},
         "isDraft": false, "assignedTo": null, "involvedUserIds": ["user-1", "user-2"]}
      ],
      "reactions": [
        {"annotationId": "rx-1", "icon": "HEART", "iconEmoji": "❤️", "lastUpdated": 1748972106739,
         "reactions": [{"variant": "default", "from": {"userId": "user-1"}, "lastUpdated": 1748972106000}]}
      ],
      "recordings": [],
      "notifications": [
        {"id": "n-1", "notificationSource": "comment", "actionType": "added",
         "timestamp": 1748972106739, "displayBodyMessage": "\u00e9t\u00e9 \ud83d\ude00",
         "notifyUsersByUserId": {"user-2": true}, "metadata": {"apiKey": "k", "organizationId": "org-1"}}
      ]
    },
    "nextPageToken": "bhdwdqwjs298e39e479ddkeuw==329"
  }
})";

TEST(WireDecodeUserData, DocumentedShape) {
  auto const page = decode(200, documented_page);
  ASSERT_TRUE(page.has_value()) << page.error().to_string();
  ASSERT_TRUE(page->next_page_token().has_value());
  EXPECT_EQ(*page->next_page_token(), "bhdwdqwjs298e39e479ddkeuw==329");
  EXPECT_FALSE(page->is_last());
  EXPECT_EQ(page->comments().size(), 1u);
  EXPECT_EQ(page->reactions().size(), 1u);
  EXPECT_EQ(page->recordings().size(), 0u);
  EXPECT_EQ(page->notifications().size(), 1u);
  EXPECT_EQ(page->item_count(), 3u);
  EXPECT_EQ(page->index(), 0u);

  auto const& ann = page->comments()[0].as_object();
  ASSERT_TRUE(ann.at("createdAt").is_int64());
  EXPECT_EQ(ann.at("createdAt").get_int64(), 1748972106739);
  EXPECT_EQ(ann.at("comments").at(0).at("commentId").get_int64(), 846253);
  EXPECT_EQ(ann.at("comments").at(0).at("commentText").get_string(), "Looks good 👍");
  EXPECT_EQ(ann.at("comments").at(0).at("from").at("name").get_string(), "Zoë 张伟");
  EXPECT_EQ(ann.at("comments").at(0).at("createdAt").get_string(), "2025-06-03T17:35:06.739Z");
  EXPECT_TRUE(ann.at("assignedTo").is_null());
  // Doubles exact to the last bit (the second one Boost 1.81's own parser gets wrong).
  EXPECT_EQ(std::bit_cast<std::uint64_t>(ann.at("position").at("x").get_double()),
            std::bit_cast<std::uint64_t>(0.30000000000000004));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(ann.at("position").at("y").get_double()),
            std::bit_cast<std::uint64_t>(1.0442758598704387e-216));
  EXPECT_EQ(page->reactions()[0].at("iconEmoji").get_string(), "❤️");
  EXPECT_EQ(page->notifications()[0].at("displayBodyMessage").get_string(), "été 😀");
}

TEST(WireDecodeUserData, EndOfDataThreeForms) {
  for (char const* body : {
           R"({"result":{"status":"success","data":{"comments":[{"a":1}]}}})",
           R"({"result":{"status":"success","data":{"comments":[{"a":1}]},"nextPageToken":null}})",
           R"({"result":{"status":"success","data":{"comments":[{"a":1}]},"nextPageToken":""}})"}) {
    auto const page = decode(200, body);
    ASSERT_TRUE(page.has_value()) << body;
    EXPECT_TRUE(page->is_last()) << body;
    EXPECT_FALSE(page->next_page_token().has_value()) << body;
    EXPECT_EQ(page->comments().size(), 1u);
  }
}

TEST(WireDecodeUserData, EmptyPageWithTokenIsNotTheEnd) {
  auto const page = decode(200, R"({"result":{"status":"success","message":"Data fetched successfully.",
      "data":{"comments":[],"reactions":[],"recordings":[],"notifications":[]},
      "nextPageToken":"tok+/=="}})");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->item_count(), 0u);
  EXPECT_FALSE(page->is_last());
  EXPECT_EQ(page->next_page_token(), std::optional<std::string>("tok+/=="));
}

TEST(WireDecodeUserData, FeaturesRunOutAtDifferentPages) {
  auto const page = decode(200, R"({"result":{"data":{"comments":[1,2,3]},"nextPageToken":"p3"}})");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->comments().size(), 3u);
  // Missing feature arrays read as empty, and are not invented in data().
  EXPECT_TRUE(page->reactions().empty());
  EXPECT_TRUE(page->recordings().empty());
  EXPECT_TRUE(page->notifications().empty());
  EXPECT_EQ(page->data().size(), 1u);
  EXPECT_FALSE(page->is_last());
}

TEST(WireDecodeUserData, EmptyDataObject) {
  auto const page = decode(200, R"({"result":{"status":"success","data":{}}})");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->item_count(), 0u);
  EXPECT_TRUE(page->is_last());
}

TEST(WireDecodeUserData, UnknownFeaturesKeptInServerOrder) {
  auto const page = decode(200, R"({"result":{"status":"success","data":{
      "userProfiles":[{"userId":"u1","organizationId":"org-1","name":"Ana"}],
      "comments":[],
      "zeta":[1,2],
      "alpha":[{"deep":{"x":[1.5,"s",null,true]}}],
      "reactions":[]}}})");
  ASSERT_TRUE(page.has_value());
  std::vector<std::string> keys;
  for (auto const& kv : page->data()) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"userProfiles", "comments", "zeta", "alpha",
                                            "reactions"}));
  EXPECT_EQ(page->feature("userProfiles").at(0).at("name").get_string(), "Ana");
  EXPECT_EQ(page->feature("zeta").size(), 2u);
  EXPECT_EQ(boost::json::serialize(page->feature("alpha")),
            R"([{"deep":{"x":[1.5E0,"s",null,true]}}])");
  EXPECT_EQ(page->item_count(), 4u);
}

TEST(WireDecodeUserData, UnicodeKept) {
  auto const page = decode(200, R"({"result":{"data":{"comments":[
      {"t":"😀🎉👩‍💻"},
      {"t":"日本語のコメント、中文评论、한국어"},
      {"t":"\u00e9\u00e8\u4e2d\u6587"},
      {"t":"\ud83d\ude00\ud83c\udf89"},
      {"t":"tab\there \"quoted\" back\\slash \u0000nul"},
      {"t":"עברית العربية"}]}}})");
  ASSERT_TRUE(page.has_value());
  auto const& c = page->comments();
  EXPECT_EQ(c[0].at("t").get_string(), "😀🎉👩‍💻");
  EXPECT_EQ(c[1].at("t").get_string(), "日本語のコメント、中文评论、한국어");
  EXPECT_EQ(c[2].at("t").get_string(), "éè中文");
  EXPECT_EQ(c[3].at("t").get_string(), "😀🎉");
  EXPECT_EQ(std::string_view(c[4].at("t").get_string()),
            std::string_view("tab\there \"quoted\" back\\slash \0nul", 33));
  EXPECT_EQ(c[5].at("t").get_string(), "עברית العربية");
}

// A full page (100 items per feature) of random content survives decode + serialize
// unchanged: every number (random doubles included) and every string.
TEST(WireDecodeUserData, FullPageRoundTripsLosslessly) {
  std::mt19937_64 rng(99);
  boost::json::object data;
  for (char const* feature : {"comments", "reactions", "recordings", "notifications", "extra"}) {
    boost::json::array items;
    for (int i = 0; i < 100; ++i) {
      double d = 0;
      do d = std::bit_cast<double>(rng()); while (!std::isfinite(d));
      items.emplace_back(boost::json::object{
          {"annotationId", "id-" + std::to_string(rng() % 100000)},
          {"lastUpdated", static_cast<std::int64_t>(1'700'000'000'000 + rng() % 100'000'000'000)},
          {"x", d},
          {"size", static_cast<double>(rng() % 10000) / 7.0},
          {"text", "é😀\n\"" + std::to_string(i)},
          {"big", static_cast<std::uint64_t>(rng() | (1ULL << 63))}});
    }
    data.emplace(feature, std::move(items));
  }
  std::string const data_text = boost::json::serialize(data);
  std::string const body =
      R"({"result":{"status":"success","message":"ok","data":)" + data_text +
      R"(,"nextPageToken":"n"}})";
  auto const page = decode(200, body);
  ASSERT_TRUE(page.has_value()) << page.error().to_string();
  EXPECT_EQ(page->item_count(), 500u);
  EXPECT_EQ(boost::json::serialize(page->data()), data_text);
}

void expect_malformed(velt::result<velt::user_data_page> const& r, std::string_view needle,
                      unsigned http_status = 200) {
  ASSERT_FALSE(r.has_value()) << "expected an error mentioning " << needle;
  EXPECT_EQ(r.error().code, velt::make_error_code(errc::malformed_response));
  EXPECT_EQ(r.error().status, velt::status::internal);
  EXPECT_EQ(r.error().http_status, http_status);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(WireDecodeUserData, FeatureNotAnArrayIsAnError) {
  expect_malformed(decode(200, R"({"result":{"data":{"comments":"oops"}}})"),
                   R"("comments" is a string, not an array)");
  expect_malformed(decode(200, R"({"result":{"data":{"comments":[],"reactions":{}}}})"),
                   R"("reactions" is an object)");
  expect_malformed(decode(200, R"({"result":{"data":{"userProfiles":7}}})"),
                   R"("userProfiles" is a number)");
}

TEST(WireDecodeUserData, NullFeatureIsAnEmptyOne) {
  // "A feature array may be missing from a page: treat it as empty"; null is the same.
  auto const page = decode(200, R"({"result":{"data":{"comments":[1,2],"recordings":null}}})");
  ASSERT_TRUE(page.has_value()) << page.error().to_string();
  EXPECT_EQ(page->item_count(), 2u);
  EXPECT_TRUE(page->is_last());
}

TEST(WireDecodeUserData, TokenInsideDataIsKeptButNotUsed) {
  auto const page =
      decode(200, R"({"result":{"data":{"comments":[1],"nextPageToken":"inner"}}})");
  ASSERT_TRUE(page.has_value()) << page.error().to_string();
  EXPECT_TRUE(page->is_last());  // only result.nextPageToken counts
  EXPECT_EQ(page->data().at("nextPageToken").get_string(), "inner");
  EXPECT_EQ(page->item_count(), 1u);
}

TEST(WireDecodeUserData, TokenOfWrongTypeIsAnError) {
  expect_malformed(decode(200, R"({"result":{"data":{},"nextPageToken":42}})"),
                   R"("nextPageToken" is a number)");
  expect_malformed(decode(200, R"({"result":{"data":{},"nextPageToken":{"t":"x"}}})"),
                   R"("nextPageToken" is an object)");
  expect_malformed(decode(200, R"({"result":{"data":{},"nextPageToken":false}})"),
                   R"("nextPageToken" is a boolean)");
}

TEST(WireDecodeUserData, SuccessEnvelopeMissingRequiredFields) {
  expect_malformed(decode(200, R"({})"), R"(no "result" object)");
  expect_malformed(decode(200, R"({"data":{"comments":[]}})"), R"(no "result" object)");
  expect_malformed(decode(200, R"({"result":"success"})"), R"("result" is a string)");
  expect_malformed(decode(200, R"({"result":{"status":"success","message":"x"}})"),
                   R"(no "data" object)");
  expect_malformed(decode(200, R"({"result":{"status":"success","data":[]}})"),
                   R"("data" is an array)");
  expect_malformed(decode(200, R"({"result":{"status":"success","data":null}})"),
                   R"("data" is null)");
}

TEST(WireDecodeUserData, EnvelopeStatusOtherThanSuccess) {
  expect_malformed(
      decode(200, R"({"result":{"status":"error","message":"Something broke","data":{}}})"),
      R"(status is "error", not "success": Something broke)");
  expect_malformed(decode(200, R"({"result":{"status":500,"data":{}}})"), "status is 500");
  // "success" in any case, or no status at all, is a success.
  EXPECT_TRUE(decode(200, R"({"result":{"status":"SUCCESS","data":{}}})").has_value());
  EXPECT_TRUE(decode(200, R"({"result":{"data":{}}})").has_value());
}

TEST(WireDecodeUserData, NullErrorMemberIsNotAnError) {
  auto const page = decode(200, R"({"error":null,"result":{"data":{"comments":[]}}})");
  EXPECT_TRUE(page.has_value());
}

TEST(WireDecodeUserData, ErrorEnvelopeWithHttp200) {
  auto const r = decode(200, R"({"error":{"message":"Invalid auth token","status":"PERMISSION_DENIED"}})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, velt::status::permission_denied);
  EXPECT_EQ(r.error().code, velt::make_error_code(velt::status::permission_denied));
  EXPECT_EQ(r.error().message, "Invalid auth token");
  EXPECT_EQ(r.error().http_status, 200u);
}

TEST(WireDecodeUserData, HttpErrorsGoThroughDecodeError) {
  auto const r = velt::wire::decode_user_data(
      response(429, R"({"error":{"message":"Too many requests","status":"RESOURCE_EXHAUSTED"}})",
               "30"),
      {}, fixed_now);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, velt::status::resource_exhausted);
  EXPECT_EQ(r.error().retry_after, std::chrono::seconds{30});
  EXPECT_EQ(r.error().http_status, 429u);
  EXPECT_TRUE(velt::is_retryable(r.error().status));
}

TEST(WireDecodeUserData, NonJsonSuccessBodies) {
  // An HTML page with 200 (captive portal, misrouted proxy): the message names the JSON
  // problem and the Content-Type, never the body (a 2xx body may hold personal data).
  auto const html = velt::wire::decode_user_data(
      response(200, "<html><body>secret-user@example.com</body></html>", {}, "text/html"), {},
      fixed_now);
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().code, velt::make_error_code(errc::malformed_response));
  EXPECT_EQ(html.error().http_status, 200u);
  EXPECT_NE(html.error().message.find("not valid JSON"), std::string::npos)
      << html.error().message;
  EXPECT_NE(html.error().message.find("text/html"), std::string::npos);
  EXPECT_EQ(html.error().message.find("secret-user"), std::string::npos);

  expect_malformed(decode(200, "Service is fine"), "not valid JSON");
  expect_malformed(decode(200, ""), "empty");
  expect_malformed(decode(204, ""), "empty", 204);
  expect_malformed(decode(200, R"({"result":{"status":"success","data":{"comments":[{"a":)"),
                   "not valid JSON");  // truncated
  expect_malformed(decode(200, R"({"result":{"data":{}}} trailing)"), "not valid JSON");
}

TEST(WireDecodeUserData, JsonThatIsNotAnObject) {
  expect_malformed(decode(200, "[]"), "an array, not a JSON object");
  expect_malformed(decode(200, R"("result")"), "a string, not a JSON object");
  expect_malformed(decode(200, "42"), "a number, not a JSON object");
  expect_malformed(decode(200, "null"), "null, not a JSON object");
}

TEST(WireDecodeUserData, BodyOverSizeLimit) {
  decode_limits limits;
  limits.max_body_bytes = 64;
  std::string const body = R"({"result":{"data":{"comments":[")" + std::string(100, 'x') +
                           R"("]}}})";
  auto const r = decode(200, body, limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, velt::make_error_code(errc::response_too_large));
  EXPECT_EQ(r.error().status, velt::status::out_of_range);
  EXPECT_EQ(r.error().http_status, 200u);
  EXPECT_FALSE(velt::is_retryable(r.error().status));
}

TEST(WireDecodeUserData, NestingOverDepthLimit) {
  decode_limits limits;
  limits.max_depth = 8;
  // root, result, data, comments, item: 5 levels; then 4 more in the item = 9.
  auto const r =
      decode(200, R"({"result":{"data":{"comments":[{"a":{"b":{"c":{"d":[]}}}}]}}})", limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, velt::make_error_code(errc::response_too_deep));
  EXPECT_EQ(r.error().http_status, 200u);
  // One level less fits.
  EXPECT_TRUE(
      decode(200, R"({"result":{"data":{"comments":[{"a":{"b":{"c":{"d":1}}}}]}}})", limits)
          .has_value());
}

TEST(WireDecodeUserData, ValueThrowsVeltError) {
  auto const r = decode(503, "");
  EXPECT_THROW((void)r.value(), velt::error);
}

}  // namespace
