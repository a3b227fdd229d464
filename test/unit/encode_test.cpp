// SPDX-License-Identifier: BSL-1.0
// Requests: paths, validation before any I/O, and the `{"data": {...}}` bodies.
#include <velt/wire.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace {

using velt::wire::encode;
using velt::wire::validate;

boost::json::value parsed(std::string const& body) {
  auto v = velt::wire::parse_json(body);
  EXPECT_TRUE(v.has_value()) << body;
  return v ? *v : boost::json::value();
}

TEST(WirePath, AllEndpointsBothVersions) {
  using velt::api_version;
  using velt::wire::endpoint;
  using velt::wire::path;
  EXPECT_EQ(path(endpoint::get_user_data), "/v2/users/data/get");
  EXPECT_EQ(path(endpoint::delete_user_data), "/v2/users/data/delete");
  EXPECT_EQ(path(endpoint::delete_status), "/v2/users/data/delete/status");
  EXPECT_EQ(path(endpoint::get_user_data, api_version::v1), "/v1/users/data/get");
  EXPECT_EQ(path(endpoint::delete_user_data, api_version::v1), "/v1/users/data/delete");
  EXPECT_EQ(path(endpoint::delete_status, api_version::v1), "/v1/users/data/delete/status");
}

TEST(WireEncode, UserDataFirstPage) {
  velt::user_data_request const r{"org-1", "user-1", std::nullopt};
  std::string const body = encode(r);
  EXPECT_EQ(body, R"({"data":{"organizationId":"org-1","userId":"user-1"}})");
  auto const v = parsed(body);
  EXPECT_FALSE(v.at("data").as_object().contains("pageToken"));
}

TEST(WireEncode, UserDataWithPageTokenByteForByte) {
  velt::user_data_request const r{"org-1", "user-1",
                                  std::string("bhdwdqwjs298e39e479ddkeuw==329")};
  EXPECT_EQ(encode(r),
            R"({"data":{"organizationId":"org-1","userId":"user-1","pageToken":"bhdwdqwjs298e39e479ddkeuw==329"}})");
  // Base64 alphabet characters are never escaped.
  velt::user_data_request const b64{"o", "u", std::string("a+b/c=d==9_-~.")};
  EXPECT_EQ(parsed(encode(b64)).at("data").at("pageToken").as_string(), "a+b/c=d==9_-~.");
  EXPECT_NE(encode(b64).find("\"a+b/c=d==9_-~.\""), std::string::npos);
}

TEST(WireEncode, EscapingOfArbitraryText) {
  std::string const tricky = "quote\" backslash\\ slash/ nl\n tab\t cr\r ctl\x01\x1f del\x7f "
                             "emoji😀 cjk数据 é";
  velt::user_data_request const r{tricky, "user \"x\"", std::string("tok\\en")};
  std::string const body = encode(r);
  // Control characters are escaped; the body is one line of valid JSON.
  EXPECT_EQ(body.find('\n'), std::string::npos);
  EXPECT_EQ(body.find('\x01'), std::string::npos);
  EXPECT_NE(body.find("\\u0001"), std::string::npos) << body;
  EXPECT_NE(body.find("\\\""), std::string::npos);
  auto const v = parsed(body);
  EXPECT_EQ(v.at("data").at("organizationId").as_string(), tricky);
  EXPECT_EQ(v.at("data").at("userId").as_string(), "user \"x\"");
  EXPECT_EQ(v.at("data").at("pageToken").as_string(), "tok\\en");
}

TEST(WireEncode, UserDataExtraFieldsFollowTheTypedOnes) {
  velt::user_data_request r{"org-1", "user-1", std::string("tok==1")};
  r.extra["veltAllOrganizations"] = true;
  r.extra["veltUserIds"] = boost::json::array{"a", "b"};
  r.extra["uniqueId"] = "u-1";
  r.extra["nested"] = boost::json::object{{"n", 1.5}, {"big", 1748972106739}};
  EXPECT_EQ(encode(r),
            R"({"data":{"organizationId":"org-1","userId":"user-1","pageToken":"tok==1",)"
            R"("veltAllOrganizations":true,"veltUserIds":["a","b"],"uniqueId":"u-1",)"
            R"("nested":{"n":1.5E0,"big":1748972106739}}})");
  // The request itself is left as it was (a stream encodes it again for every page).
  EXPECT_EQ(r.extra.size(), 4u);
  r.page_token.reset();
  EXPECT_EQ(parsed(encode(r)).at("data").as_object().size(), 6u);
}

TEST(WireEncode, ExtraNeverReplacesOrAddsReservedKeys) {
  // encode does not validate; even so the typed fields own their keys.
  velt::user_data_request r{"org-1", "user-1", std::nullopt};
  r.extra["pageToken"] = "forged";
  r.extra["userId"] = "someone-else";
  r.extra["organizationId"] = "org-2";
  r.extra["uniqueId"] = "u-1";
  EXPECT_EQ(encode(r), R"({"data":{"organizationId":"org-1","userId":"user-1","uniqueId":"u-1"}})");
}

TEST(WireEncode, DeleteRequest) {
  velt::delete_user_data_request const r{{"user-1", "user-2"}, {"org-1"}};
  EXPECT_EQ(encode(r), R"({"data":{"userIds":["user-1","user-2"],"organizationIds":["org-1"]}})");
}

TEST(WireEncode, DeleteRequestOmitsEmptyOrganizations) {
  velt::delete_user_data_request const r{{"user-1"}, {}};
  std::string const body = encode(r);
  EXPECT_EQ(body, R"({"data":{"userIds":["user-1"]}})");
  auto const v = parsed(body);
  EXPECT_FALSE(v.at("data").as_object().contains("organizationIds"));
  ASSERT_EQ(v.at("data").at("userIds").as_array().size(), 1u);
}

TEST(WireEncode, DeleteRequestManyUsersParsesBack) {
  velt::delete_user_data_request r;
  for (int i = 0; i < 250; ++i) r.user_ids.push_back("user-" + std::to_string(i) + "-é");
  r.organization_ids = {"org-a", "org-b"};
  auto const v = parsed(encode(r));
  auto const& ids = v.at("data").at("userIds").as_array();
  ASSERT_EQ(ids.size(), 250u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i].as_string(), r.user_ids[i]);
  EXPECT_EQ(v.at("data").at("organizationIds").as_array().size(), 2u);
  EXPECT_EQ(v.as_object().size(), 1u);  // only "data"
}

TEST(WireEncode, DeleteStatusRequest) {
  velt::delete_status_request const r{"dsQuvPmIynANgPLLEhCm"};
  EXPECT_EQ(encode(r), R"({"data":{"jobId":"dsQuvPmIynANgPLLEhCm"}})");
}

void expect_invalid(std::optional<velt::error_details> const& e, std::string const& message) {
  ASSERT_TRUE(e.has_value()) << "expected: " << message;
  EXPECT_EQ(e->message, message);
  EXPECT_EQ(e->code, velt::make_error_code(velt::errc::invalid_request));
  EXPECT_EQ(e->status, velt::status::invalid_argument);
  EXPECT_EQ(e->attempts, 0u);
  EXPECT_EQ(e->http_status, 0u);
  EXPECT_FALSE(velt::is_retryable(e->status));
}

TEST(WireValidate, UserDataRequest) {
  using R = velt::user_data_request;
  EXPECT_FALSE(validate(R{"org-1", "user-1", std::nullopt}));
  EXPECT_FALSE(validate(R{"org-1", "user-1", std::string("tok==1")}));
  expect_invalid(validate(R{"", "user-1", std::nullopt}), "organization_id is empty");
  expect_invalid(validate(R{"org-1", "", std::nullopt}), "user_id is empty");
  expect_invalid(validate(R{"", "", std::nullopt}), "organization_id is empty");
  expect_invalid(validate(R{"org-1", std::string("us\0er", 5), std::nullopt}),
                 "user_id contains a NUL byte");
  expect_invalid(validate(R{std::string("\0", 1), "u", std::nullopt}),
                 "organization_id contains a NUL byte");
  expect_invalid(validate(R{"org-1", "user-1", std::string()}), "page_token is empty");
  expect_invalid(validate(R{"org-1", "user-1", std::string("a\0b", 3)}),
                 "page_token contains a NUL byte");
  expect_invalid(validate(R{"org-1", "caf\xe9", std::nullopt}),  // Latin-1, not UTF-8
                 "user_id is not valid UTF-8");
}

TEST(WireValidate, UserDataExtra) {
  using R = velt::user_data_request;
  R r{"org-1", "user-1", std::nullopt};
  r.extra["veltAllOrganizations"] = true;
  r.extra["veltUserIds"] = boost::json::array{"a", "é😀"};
  r.extra["uniqueId"] = "u-1";
  r.extra["n"] = nullptr;
  r.extra[""] = 1;  // JSON allows it; the server decides
  EXPECT_FALSE(validate(r));

  for (auto const& [key, field] : {std::pair{"organizationId", "organization_id"},
                                   std::pair{"userId", "user_id"},
                                   std::pair{"pageToken", "page_token"}}) {
    R bad{"org-1", "user-1", std::nullopt};
    bad.extra["uniqueId"] = "u-1";
    bad.extra[key] = "x";
    expect_invalid(validate(bad),
                   std::string("extra.") + key + " is reserved: " + field + " sets it");
    // Whatever the value: null too.
    bad.extra[key] = nullptr;
    EXPECT_TRUE(validate(bad)) << key;
  }
  // Case matters: only the exact keys are the API's.
  R other{"org-1", "user-1", std::nullopt};
  other.extra["userid"] = "x";
  other.extra["UserId"] = "x";
  EXPECT_FALSE(validate(other));

  // The typed fields are checked first, in declaration order.
  R both{"", "user-1", std::nullopt};
  both.extra["userId"] = "x";
  expect_invalid(validate(both), "organization_id is empty");

  auto with = [](boost::json::value v) {
    R x{"org-1", "user-1", std::nullopt};
    x.extra["veltUserIds"] = std::move(v);
    return x;
  };
  expect_invalid(validate(with(boost::json::array{"a", "caf\xe9"})),
                 "extra.veltUserIds[1] is not valid UTF-8");
  expect_invalid(validate(with(boost::json::object{{"deep", boost::json::array{1, HUGE_VAL}}})),
                 "extra.veltUserIds.deep[1] is not a finite number");
  expect_invalid(validate(with(std::nan(""))), "extra.veltUserIds is not a finite number");
  expect_invalid(validate(with(boost::json::object{{"ok\xff", 1}})),
                 "extra.veltUserIds has a key that is not valid UTF-8");
  R badkey{"org-1", "user-1", std::nullopt};
  badkey.extra["\xc0\xaf"] = 1;
  expect_invalid(validate(badkey), "extra has a key that is not valid UTF-8");

  // Nesting: a member's value is level 1; values down to level 64 pass, deeper ones do not.
  auto nested = [](int levels) {
    boost::json::value v = 1;
    for (int i = 0; i < levels; ++i) v = boost::json::array{std::move(v)};
    return v;
  };
  EXPECT_FALSE(validate(with(nested(63))));
  ASSERT_TRUE(validate(with(nested(64))));
  EXPECT_NE(validate(with(nested(64)))->message.find("nested deeper than 64 levels"),
            std::string::npos);

  // validate_extra names the field it is given.
  boost::json::object opts{{"pageToken", "t"}};
  expect_invalid(velt::wire::validate_extra(opts, "batch_options::request_extra"),
                 "batch_options::request_extra.pageToken is reserved: page_token sets it");
}

TEST(WireValidate, DeleteRequest) {
  using R = velt::delete_user_data_request;
  EXPECT_FALSE(validate(R{{"u1"}, {}}));
  EXPECT_FALSE(validate(R{{"u1", "u2"}, {"o1"}}));
  expect_invalid(validate(R{{}, {"o1"}}), "user_ids is empty");
  expect_invalid(validate(R{{"u1", "u2", ""}, {}}), "user_ids[2] is empty");
  expect_invalid(validate(R{{"u1", std::string("u\0", 2)}, {}}),
                 "user_ids[1] contains a NUL byte");
  expect_invalid(validate(R{{"u1"}, {"o1", ""}}), "organization_ids[1] is empty");
  expect_invalid(validate(R{{"u1"}, {std::string("\0o", 2)}}),
                 "organization_ids[0] contains a NUL byte");
  expect_invalid(validate(R{{"\xff"}, {}}), "user_ids[0] is not valid UTF-8");
}

TEST(WireValidate, DeleteStatusRequest) {
  EXPECT_FALSE(validate(velt::delete_status_request{"dsQuvPmIynANgPLLEhCm"}));
  expect_invalid(validate(velt::delete_status_request{""}), "job_id is empty");
  expect_invalid(validate(velt::delete_status_request{std::string("j\0", 2)}),
                 "job_id contains a NUL byte");
}

TEST(WireValidate, Utf8Rules) {
  auto ok = [](std::string const& id) {
    return !validate(velt::delete_status_request{id}).has_value();
  };
  EXPECT_TRUE(ok("plain"));
  EXPECT_TRUE(ok("é中😀"));
  EXPECT_TRUE(ok("\xf4\x8f\xbf\xbf"));        // U+10FFFF
  EXPECT_FALSE(ok("\xc0\xaf"));               // overlong '/'
  EXPECT_FALSE(ok("\xe0\x80\xaf"));           // overlong
  EXPECT_FALSE(ok("\xed\xa0\x80"));           // surrogate U+D800
  EXPECT_FALSE(ok("\xf4\x90\x80\x80"));       // above U+10FFFF
  EXPECT_FALSE(ok("\xe4\xb8"));               // truncated
  EXPECT_FALSE(ok("\x80"));                   // lone continuation
  EXPECT_FALSE(ok("\xf5\x80\x80\x80"));       // invalid lead byte
}

}  // namespace
