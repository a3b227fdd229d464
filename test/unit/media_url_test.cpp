// SPDX-License-Identifier: BSL-1.0
// velt::media::check_url (which media URLs may be fetched) and redact (URLs in logs).
#include <velt/media.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using velt::media::check_url;
using velt::media::redact;

std::vector<std::string> const hosts = {"storage.googleapis.com", "media.example.com:8443",
                                        "*.bucket.example", "127.0.0.1:4443", "[::1]:4443"};

std::optional<std::string> check(std::string_view url) { return check_url(url, hosts); }

TEST(MediaUrl, AllowedHostsAndPorts) {
  EXPECT_EQ(check("https://storage.googleapis.com/b/o.png?X-Goog-Signature=1"), std::nullopt);
  EXPECT_EQ(check("https://STORAGE.googleapis.COM/b/o.png"), std::nullopt);   // host: any case
  EXPECT_EQ(check("HTTPS://storage.googleapis.com/b"), std::nullopt);          // scheme: any case
  EXPECT_EQ(check("https://storage.googleapis.com:443/b"), std::nullopt);      // 443 written out
  EXPECT_EQ(check("https://storage.googleapis.com:/b"), std::nullopt);         // empty port: 443
  EXPECT_EQ(check("https://storage.googleapis.com:8443/b"), "host not allowed: storage.googleapis.com:8443");
  EXPECT_EQ(check("https://media.example.com:8443/x"), std::nullopt);
  EXPECT_EQ(check("https://media.example.com/x"), "host not allowed: media.example.com");
  EXPECT_EQ(check("https://127.0.0.1:4443/media/ok/a.png"), std::nullopt);
  EXPECT_EQ(check("https://127.0.0.1/media/ok/a.png"), "host not allowed: 127.0.0.1");
  EXPECT_EQ(check("https://[::1]:4443/m"), std::nullopt);
  EXPECT_EQ(check("https://localhost:4443/m"), "host not allowed: localhost:4443");
}

TEST(MediaUrl, ExactHostNotSuffixOrPrefix) {
  EXPECT_EQ(check("https://evilstorage.googleapis.com/x"), "host not allowed: evilstorage.googleapis.com");
  EXPECT_EQ(check("https://storage.googleapis.com.evil.example/x"), "host not allowed: storage.googleapis.com.evil.example");
  EXPECT_EQ(check("https://storage.googleapis.com./x"), "host not allowed: storage.googleapis.com.");
  EXPECT_EQ(check("https://sub.storage.googleapis.com/x"), "host not allowed: sub.storage.googleapis.com");
  EXPECT_EQ(check("https://xn--strage-kva.googleapis.com/x"), "host not allowed: xn--strage-kva.googleapis.com");
}

TEST(MediaUrl, WildcardMatchesSubdomainsOnly) {
  EXPECT_EQ(check("https://a.bucket.example/x"), std::nullopt);
  EXPECT_EQ(check("https://a.b.BUCKET.example/x"), std::nullopt);
  EXPECT_EQ(check("https://bucket.example/x"), "host not allowed: bucket.example");
  EXPECT_EQ(check("https://abucket.example/x"), "host not allowed: abucket.example");
  EXPECT_EQ(check("https://.bucket.example/x"), "host not allowed: .bucket.example");
  EXPECT_EQ(check("https://a.bucket.example:444/x"), "host not allowed: a.bucket.example:444");
  std::vector<std::string> const with_port = {"*.bucket.example:444"};
  EXPECT_EQ(check_url("https://a.bucket.example:444/x", with_port), std::nullopt);
  EXPECT_NE(check_url("https://a.bucket.example/x", with_port), std::nullopt);
}

TEST(MediaUrl, RefusedForm) {
  EXPECT_EQ(check("http://storage.googleapis.com/x"), "not https");
  EXPECT_EQ(check("ftp://storage.googleapis.com/x"), "not https");
  EXPECT_EQ(check("https://user:pw@storage.googleapis.com/x"), "user information in URL");
  EXPECT_EQ(check("https://@storage.googleapis.com/x"), "user information in URL");
  EXPECT_EQ(check("https://stor%61ge.googleapis.com/x"), "percent-encoded host");
  EXPECT_EQ(check("https://störage.googleapis.com/x"), "not a URL");  // IDN must come as xn--
  EXPECT_EQ(check("//storage.googleapis.com/x"), "not a URL");
  EXPECT_EQ(check("/media/ok/a.png"), "not a URL");
  EXPECT_EQ(check("https:///x"), "not a URL");
  EXPECT_EQ(check("https://storage.googleapis.com:99999/x"), "not a URL");
  EXPECT_EQ(check("https://storage.googleapis.com/a b"), "not a URL");
  EXPECT_EQ(check(""), "not a URL");
  // Malformed entries never match anything.
  std::vector<std::string> const bad = {"", "*.", "host:", "host:0", "host:x", "[::1", "[::1]x", "*"};
  EXPECT_EQ(check_url("https://host/x", bad), "host not allowed: host");
  EXPECT_EQ(check_url("https://host/x", {}), "host not allowed: host");
}

TEST(MediaUrl, RedactRemovesQueryFragmentAndUserinfo) {
  EXPECT_EQ(redact("https://storage.googleapis.com/b/o.png?X-Goog-Signature=abc&X-Goog-Credential=k"),
            "https://storage.googleapis.com/b/o.png?<redacted>");
  EXPECT_EQ(redact("https://h/p#token=1"), "https://h/p?<redacted>");
  EXPECT_EQ(redact("https://h/p"), "https://h/p");
  EXPECT_EQ(redact("https://user:secret@h:8443/p?q"), "https://h:8443/p?<redacted>");
  EXPECT_EQ(redact("https://user:secret@h"), "https://h");
  EXPECT_EQ(redact("https://h/a@b"), "https://h/a@b");  // '@' in the path is not user information
  EXPECT_EQ(redact("https://h/a b\r\nX-Injected: 1"), "https://h/a%20b%0D%0AX-Injected:%201");
  EXPECT_EQ(redact("not a url?secret"), "not%20a%20url?<redacted>");
  EXPECT_EQ(redact(""), "");
}

}  // namespace
