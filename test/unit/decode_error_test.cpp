// SPDX-License-Identifier: BSL-1.0
// decode_error: the JSON error envelope (status from the body first, HTTP second), other
// JSON shapes, non-JSON bodies from gateways, redirects and Retry-After.
#include "wire_test_support.hpp"

#include <velt/wire.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using velt::status;
using velt::test::fixed_now;
using velt::test::response;
using velt::wire::decode_error;

velt::error_details classify(unsigned http_status, std::string_view body,
                             std::string_view retry_after = {}) {
  return decode_error(response(http_status, body, retry_after), {}, fixed_now);
}

TEST(WireDecodeError, DocumentedEnvelopeCodeDoesNotMatchHttp) {
  // The GDPR page pairs INVALID_ARGUMENT with "code": 500; the status name wins.
  auto const e =
      classify(500, R"({"error":{"message":"ERROR_MESSAGE","status":"INVALID_ARGUMENT","code":500}})");
  EXPECT_EQ(e.status, status::invalid_argument);
  EXPECT_EQ(e.code, velt::make_error_code(status::invalid_argument));
  EXPECT_EQ(e.message, "ERROR_MESSAGE");
  EXPECT_EQ(e.http_status, 500u);
  EXPECT_FALSE(e.retry_after.has_value());
  EXPECT_EQ(e.attempts, 0u);
  EXPECT_FALSE(velt::is_retryable(e.status));
  EXPECT_EQ(e.to_string(), "INVALID_ARGUMENT (HTTP 500): ERROR_MESSAGE");
}

TEST(WireDecodeError, EveryCanonicalNameInTheBodyWins) {
  for (int v = 1; v <= 16; ++v) {
    auto const s = static_cast<status>(v);
    std::string const body = R"({"error":{"message":"m","status":")" +
                             std::string(velt::to_string(s)) + R"(","code":500}})";
    auto const e = classify(500, body);
    EXPECT_EQ(e.status, s) << body;
    EXPECT_EQ(e.code, velt::make_error_code(s));
  }
}

TEST(WireDecodeError, StatusFromHttpWhenBodyNamesNone) {
  EXPECT_EQ(classify(401, R"({"error":{"message":"no token"}})").status, status::unauthenticated);
  EXPECT_EQ(classify(403, R"({"error":{"message":"bad token","code":403}})").status,
            status::permission_denied);
  EXPECT_EQ(classify(429, R"({"error":{"message":"slow down"}})").status,
            status::resource_exhausted);
  EXPECT_EQ(classify(503, R"({"error":{"message":"m","status":"NOT_A_STATUS"}})").status,
            status::unavailable);
  EXPECT_EQ(classify(500, R"({"error":{"message":"m","status":"OK"}})").status, status::internal);
  EXPECT_EQ(classify(500, R"({"error":{"message":"m","status":13}})").status, status::internal);
  // Lower-case names are recognised too.
  EXPECT_EQ(classify(400, R"({"error":{"message":"m","status":"permission_denied"}})").status,
            status::permission_denied);
}

TEST(WireDecodeError, OtherJsonShapes) {
  auto const str = classify(401, R"({"error":"Unauthorized"})");
  EXPECT_EQ(str.status, status::unauthenticated);
  EXPECT_EQ(str.message, "Unauthorized");

  auto const top = classify(404, R"({"status":"NOT_FOUND","message":"No such job","statusCode":404})");
  EXPECT_EQ(top.status, status::not_found);
  EXPECT_EQ(top.message, "No such job");

  auto const generic = classify(500, R"({"status":"error","message":"Deletion failed","statusCode":500})");
  EXPECT_EQ(generic.status, status::internal);
  EXPECT_EQ(generic.message, "Deletion failed");

  auto const in_result = classify(400, R"({"result":{"status":"error","message":"bad org"}})");
  EXPECT_EQ(in_result.status, status::invalid_argument);
  EXPECT_EQ(in_result.message, "bad org");

  // Details are ignored; they never replace the message.
  auto const details = classify(
      400, R"({"error":{"message":"bad","status":"FAILED_PRECONDITION","details":[{"x":1}]}})");
  EXPECT_EQ(details.status, status::failed_precondition);
  EXPECT_EQ(details.message, "bad");
}

TEST(WireDecodeError, JsonWithoutMessageKeepsAnExcerpt) {
  auto const e = classify(404, R"({"error":{"status":"NOT_FOUND"}})");
  EXPECT_EQ(e.status, status::not_found);
  EXPECT_EQ(e.message, R"(HTTP 404 Not Found: {"error":{"status":"NOT_FOUND"}})");
}

TEST(WireDecodeError, ErrorEnvelopeWithHttp200) {
  auto const e = classify(200, R"({"error":{"status":"UNAUTHENTICATED","message":"token expired"}})");
  EXPECT_EQ(e.status, status::unauthenticated);
  EXPECT_EQ(e.http_status, 200u);
  auto const unnamed = classify(200, R"({"error":{"message":"strange"}})");
  EXPECT_EQ(unnamed.status, status::unknown);  // never OK
  EXPECT_EQ(unnamed.message, "strange");
}

// A server's own message is quoted, but bounded: at most 4096 bytes of it (never half a
// UTF-8 character), then "... (N bytes)" with its full size.
TEST(WireDecodeError, LongServerMessageIsBounded) {
  std::string const long_message = "start " + std::string(10000, 'm') + " end";
  auto const e = classify(500, R"({"error":{"message":")" + long_message +
                                   R"(","status":"INVALID_ARGUMENT"}})");
  EXPECT_EQ(e.status, status::invalid_argument);  // the classification is unchanged
  EXPECT_EQ(e.http_status, 500u);
  std::string const marker = "... (" + std::to_string(long_message.size()) + " bytes)";
  EXPECT_EQ(e.message, long_message.substr(0, 4096) + marker);
  EXPECT_EQ(e.message.find(" end"), std::string::npos);
  EXPECT_EQ(e.to_string(), "INVALID_ARGUMENT (HTTP 500): " + long_message.substr(0, 4096) + marker);
}

TEST(WireDecodeError, ServerMessageUpToTheBoundIsQuotedWhole) {
  std::string const exact(4096, 'x');
  EXPECT_EQ(classify(400, R"({"error":{"message":")" + exact + R"("}})").message, exact);
  std::string const one_more(4097, 'y');
  EXPECT_EQ(classify(400, R"({"error":{"message":")" + one_more + R"("}})").message,
            std::string(4096, 'y') + "... (4097 bytes)");
}

TEST(WireDecodeError, BoundedServerMessageNeverCutsACharacter) {
  // "é" (2 bytes) and "😀" (4 bytes) straddling the 4096th byte are left out whole.
  for (std::string const& ch : {std::string(R"(\u00e9)"), std::string(R"(\ud83d\ude00)")}) {
    std::string const body = R"({"error":{"message":")" + std::string(4095, 'a') + ch +
                             std::string(100, 'b') + R"("}})";
    auto const e = classify(503, body);
    std::size_t const full = 4095 + (ch.size() == 6 ? 2 : 4) + 100;
    EXPECT_EQ(e.message, std::string(4095, 'a') + "... (" + std::to_string(full) + " bytes)");
  }
  // A character that fits is kept.
  auto const fits = classify(503, R"({"error":{"message":")" + std::string(4094, 'a') +
                                      R"(étail"}})");
  EXPECT_EQ(fits.message, std::string(4094, 'a') + "\xc3\xa9... (4100 bytes)");
}

TEST(WireDecodeError, EveryJsonMessageShapeIsBounded) {
  std::string const huge(1 << 20, 'z');  // 1 MiB
  std::string const marker = "... (1048576 bytes)";
  std::string const expected = std::string(4096, 'z') + marker;
  EXPECT_EQ(classify(401, R"({"error":")" + huge + R"("})").message, expected);
  EXPECT_EQ(classify(404, R"({"status":"NOT_FOUND","message":")" + huge + R"("})").message,
            expected);
  EXPECT_EQ(classify(400, R"({"result":{"status":"error","message":")" + huge + R"("}})").message,
            expected);
  auto const at_200 = classify(200, R"({"error":{"status":"INTERNAL","message":")" + huge + R"("}})");
  EXPECT_EQ(at_200.status, status::internal);
  EXPECT_EQ(at_200.message, expected);
}

constexpr char const* nginx_502 =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n";

TEST(WireDecodeError, Html502FromAGateway) {
  auto const e = decode_error(response(502, nginx_502, {}, "text/html"), {}, fixed_now);
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.code, velt::make_error_code(status::unavailable));
  EXPECT_EQ(e.http_status, 502u);
  EXPECT_EQ(e.message, "HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx");
  EXPECT_TRUE(velt::is_retryable(e.status));
}

TEST(WireDecodeError, HtmlScriptsStylesCommentsAndEntities) {
  auto const e = classify(
      503,
      "<!DOCTYPE html><html><head><style>body { color: red; }</style>"
      "<script type=\"text/javascript\">var x = '<b>not text</b>';</script></head>"
      "<body><!-- <p>hidden</p> --><p>Service &amp; API are down &lt;briefly&gt;</p>"
      "<SCRIPT>alert(1)</SCRIPT><p>Try&nbsp;later</p></body></html>");
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.message, "HTTP 503 Service Unavailable: Service & API are down <briefly> Try later");
}

TEST(WireDecodeError, PlainText) {
  auto const e = classify(
      503, "upstream connect error or disconnect/reset before headers. reset reason: overflow");
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.message,
            "HTTP 503 Service Unavailable: upstream connect error or disconnect/reset before "
            "headers. reset reason: overflow");
  auto const gw = classify(504, "Gateway Timeout\n");
  EXPECT_EQ(gw.status, status::deadline_exceeded);
  EXPECT_EQ(gw.message, "HTTP 504 Gateway Timeout: Gateway Timeout");
  auto const odd = classify(599, "weird");
  EXPECT_EQ(odd.status, status::internal);
  EXPECT_EQ(odd.message, "HTTP 599: weird");
}

TEST(WireDecodeError, EmptyBody) {
  auto const e = classify(503, "");
  EXPECT_EQ(e.status, status::unavailable);
  EXPECT_EQ(e.message, "HTTP 503 with an empty body");
  EXPECT_EQ(e.to_string(), "UNAVAILABLE (HTTP 503): HTTP 503 with an empty body");
  EXPECT_EQ(classify(500, " \r\n\t").message, "HTTP 500 with an empty body");
  EXPECT_EQ(classify(429, "").status, status::resource_exhausted);
}

TEST(WireDecodeError, ExcerptIsSanitisedAndShort) {
  std::string body = "line one\r\nline\ttwo\x01\x1b[31m red \x7f end \xff\xfe bad utf8 é😀 ";
  body += std::string(1000, 'x');
  auto const e = classify(500, body);
  std::string const prefix = "HTTP 500 Internal Server Error: ";
  ASSERT_EQ(e.message.rfind(prefix, 0), 0u) << e.message;
  std::string const excerpt = e.message.substr(prefix.size());
  EXPECT_EQ(excerpt.rfind("line one line two [31m red end ?? bad utf8 é😀 xxx", 0), 0u) << excerpt;
  for (char c : excerpt) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << excerpt;
    EXPECT_NE(c, '\x7f');
  }
  EXPECT_EQ(excerpt.substr(excerpt.size() - 3), "...");
  // 200 code points (é and 😀 are one each) plus "...".
  std::size_t code_points = 0;
  for (char c : excerpt)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++code_points;
  EXPECT_EQ(code_points, 203u);
}

TEST(WireDecodeError, NotQuiteJsonBodiesFallBackToHttp) {
  // Truncated JSON, JSON that is not an object, JSON over the size limit.
  auto const truncated = classify(502, R"({"error":{"message":"cut)");
  EXPECT_EQ(truncated.status, status::unavailable);
  EXPECT_EQ(truncated.message, R"(HTTP 502 Bad Gateway: {"error":{"message":"cut)");
  auto const array = classify(500, R"(["INVALID_ARGUMENT"])");
  EXPECT_EQ(array.status, status::internal);
  velt::wire::decode_limits small;
  small.max_body_bytes = 16;
  auto const big = decode_error(
      response(400, R"({"error":{"message":"too big to parse","status":"NOT_FOUND"}})"), small,
      fixed_now);
  EXPECT_EQ(big.status, status::invalid_argument);  // from HTTP; no JSON parse
  EXPECT_EQ(big.code, velt::make_error_code(status::invalid_argument));
  EXPECT_NE(big.message.find("too big to parse"), std::string::npos);
}

TEST(WireDecodeError, Redirects) {
  for (unsigned code : {301u, 302u, 303u, 307u, 308u}) {
    auto const e = classify(code, "<html>Moved</html>");
    EXPECT_EQ(e.code, velt::make_error_code(velt::errc::unexpected_redirect)) << code;
    EXPECT_EQ(e.status, status::failed_precondition);
    EXPECT_EQ(e.http_status, code);
    EXPECT_FALSE(velt::is_retryable(e.status));
    EXPECT_NE(e.message.find("redirect"), std::string::npos);
  }
  EXPECT_EQ(classify(302, "").message,
            "unexpected redirect (HTTP 302 Found); redirects are not followed");
  // Decoders report redirects the same way.
  auto const page = velt::wire::decode_user_data(response(307, ""), {}, fixed_now);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, velt::make_error_code(velt::errc::unexpected_redirect));
}

TEST(WireDecodeError, RetryAfterSeconds) {
  auto const e = classify(429, R"({"error":{"message":"Too many","status":"RESOURCE_EXHAUSTED"}})",
                          "120");
  EXPECT_EQ(e.status, status::resource_exhausted);
  EXPECT_EQ(e.retry_after, std::chrono::seconds{120});
  EXPECT_EQ(classify(503, "", " 7 ").retry_after, std::chrono::seconds{7});
}

TEST(WireDecodeError, RetryAfterDate) {
  // fixed_now is 2025-06-03 12:00:00 UTC.
  EXPECT_EQ(classify(503, "busy", "Tue, 03 Jun 2025 12:01:30 GMT").retry_after,
            std::chrono::seconds{90});
  EXPECT_EQ(classify(503, "busy", "Tuesday, 03-Jun-25 12:00:05 GMT").retry_after,
            std::chrono::seconds{5});
  EXPECT_EQ(classify(503, "busy", "Tue Jun  3 12:00:10 2025").retry_after,
            std::chrono::seconds{10});
  EXPECT_EQ(classify(503, "busy", "Sun, 06 Nov 1994 08:49:37 GMT").retry_after,
            std::chrono::seconds{0});  // past
}

TEST(WireDecodeError, RetryAfterGarbageOrAbsent) {
  EXPECT_FALSE(classify(503, "busy", "-5").retry_after.has_value());
  EXPECT_FALSE(classify(503, "busy", "soon").retry_after.has_value());
  EXPECT_FALSE(classify(503, "busy", "1.5").retry_after.has_value());
  EXPECT_FALSE(classify(503, "busy").retry_after.has_value());
  // A bad header never hides the error itself.
  EXPECT_EQ(classify(503, "busy", "soon").status, status::unavailable);
}

TEST(WireDecodeError, RetryAfterOnSuccessDecodeFailures) {
  auto const r =
      velt::wire::decode_user_data(response(200, "garbage", "15"), {}, fixed_now);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().retry_after, std::chrono::seconds{15});
  EXPECT_EQ(r.error().http_status, 200u);
}

}  // namespace
