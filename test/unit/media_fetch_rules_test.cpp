// SPDX-License-Identifier: BSL-1.0
// The media downloader's sans-I/O decisions: status classes, redirect targets and the
// size cap (lib/media/fetch_rules.hpp).
#include "media/fetch_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using velt::media::detail::classify_status;
using velt::media::detail::next_redirect;
using velt::media::detail::response_action;
using velt::media::detail::size_refusal;

TEST(MediaFetchRules, StatusClasses) {
  EXPECT_EQ(classify_status(200), response_action::accept);
  for (unsigned s : {301u, 302u, 303u, 307u, 308u}) EXPECT_EQ(classify_status(s), response_action::redirect) << s;
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u, 599u}) EXPECT_EQ(classify_status(s), response_action::retry) << s;
  for (unsigned s : {100u, 201u, 204u, 206u, 300u, 304u, 305u, 400u, 401u, 403u, 404u, 410u, 600u}) {
    EXPECT_EQ(classify_status(s), response_action::fail) << s;
  }
}

TEST(MediaFetchRules, RedirectsResolveAndPassTheHostRules) {
  std::vector<std::string> const hosts = {"127.0.0.1:4443", "*.storage.googleapis.com"};
  std::string const here = "https://127.0.0.1:4443/media/redirect-same/K.png?sig=1";
  auto const follow = [&](std::string_view location, unsigned followed = 0) {
    return next_redirect(here, location, followed, 5, hosts);
  };
  EXPECT_EQ(follow("/media/ok/K.png").url, "https://127.0.0.1:4443/media/ok/K.png");
  EXPECT_EQ(follow("ok.png").url, "https://127.0.0.1:4443/media/redirect-same/ok.png");
  EXPECT_EQ(follow("?sig=2").url, "https://127.0.0.1:4443/media/redirect-same/K.png?sig=2");
  EXPECT_EQ(follow("https://b.storage.googleapis.com/o?X-Goog-Signature=s#frag").url,
            "https://b.storage.googleapis.com/o?X-Goog-Signature=s");
  EXPECT_EQ(follow("https://127.0.0.1:4443/media/ok/K.png", 4).refusal, "");
  // Refused: another host (the mock's redirect-other), by any spelling; not https; userinfo.
  EXPECT_EQ(follow("https://localhost:4443/media/ok/K.png").refusal, "redirect to host not allowed: localhost:4443");
  EXPECT_EQ(follow("//evil.example/x").refusal, "redirect to host not allowed: evil.example");
  EXPECT_EQ(follow("https://127.0.0.1:4444/x").refusal, "redirect to host not allowed: 127.0.0.1:4444");
  EXPECT_EQ(follow("http://127.0.0.1:4443/media/ok/K.png").refusal, "redirect refused: not https");
  EXPECT_EQ(follow("https://u:p@127.0.0.1:4443/x").refusal, "redirect refused: user information in URL");
  EXPECT_EQ(follow("https://[bad").refusal, "redirect refused: not a URL");
  EXPECT_EQ(follow("/x", 5).refusal, "too many redirects");
  EXPECT_EQ(next_redirect(here, std::nullopt, 0, 5, hosts).refusal, "redirect without Location");
  EXPECT_EQ(follow("").refusal, "redirect without Location");
  EXPECT_EQ(follow("//evil.example/x").url, "") << "a refused redirect has no target";
  EXPECT_EQ(follow("/x", 5).url, "");
}

TEST(MediaFetchRules, SizeCapBeforeAndDuringTheBody) {
  EXPECT_EQ(size_refusal(100, 0, 100), std::nullopt);
  EXPECT_EQ(size_refusal(101, 0, 100), "too large: 101 > 100");                       // announced: before the body
  EXPECT_EQ(size_refusal(std::nullopt, 100, 100), std::nullopt);
  EXPECT_EQ(size_refusal(std::nullopt, 101, 100), "too large: 101 > 100");            // chunked: while reading
  EXPECT_EQ(size_refusal(50, 101, 100), "too large: 101 > 100");                      // more than announced
  EXPECT_EQ(size_refusal(3221225472ull, 0, 2147483648ull), "too large: 3221225472 > 2147483648");
}

}  // namespace
