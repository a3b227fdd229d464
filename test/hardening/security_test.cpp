// SPDX-License-Identifier: BSL-1.0
// TLS and HTTP security: legacy protocol versions are refused, redirects are never followed,
// header values with CR/LF/NUL are refused before any I/O, and whatever a server echoes
// back never puts the API key or auth token into an error message or a log line, even
// credentials with spaces and quotes echoed re-encoded (JSON, HTML).
//
// (Wrong host name, untrusted CA, expired and self-signed certificates are covered in
// test/client.)
#include "client/client_impl.hpp"
#include "hardening_support.hpp"
#include "tls_test_server.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>

namespace velt::hardening {
namespace {

std::filesystem::path scratch_dir() { return hardening::scratch_dir(""); }

// ---- TLS protocol versions -----------------------------------------------------------------

struct tls_case {
  int max_version;
  char const* name;
};

void PrintTo(tls_case const& c, std::ostream* os) { *os << c.name; }

class HardeningLegacyTls : public ::testing::TestWithParam<tls_case> {};

TEST_P(HardeningLegacyTls, ServerOfferingOnlyAnOldProtocolIsRefused) {
  tls_test_server srv(TLS1_VERSION, GetParam().max_version, scratch_dir());
  client_options o = plain_options(srv.url());
  o.allow_plain_http = false;
  o.ca_file = srv.ca_file();
  auto got = fetch_once(o);
  ASSERT_TRUE(got.ec) << "a " << GetParam().name << "-only server was accepted";
  RecordProperty("client_error", got.error.to_string());
  EXPECT_NE(got.error.status, status::ok);
  EXPECT_NE(got.error.message.find("TLS handshake"), std::string::npos) << got.error.message;
  EXPECT_EQ(got.error.attempts, 1u) << "a protocol-version refusal is not retried";
  EXPECT_EQ(srv.handshakes(), 0u);
  EXPECT_EQ(srv.requests(), 0u) << "no request (and so no credential) went over it";
  EXPECT_EQ(srv.connections(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Versions, HardeningLegacyTls,
                         ::testing::Values(tls_case{TLS1_VERSION, "TLS1_0"},
                                           tls_case{TLS1_1_VERSION, "TLS1_1"}),
                         [](auto const& info) { return std::string(info.param.name); });

TEST(HardeningTls, TheSameServerWorksWhenItAlsoOffersTls12) {
  // Control for the test above: the refusal is about the protocol version, not the
  // certificate or the server. Offering 1.0 to 1.2 negotiates 1.2, 1.0 to 1.3 negotiates 1.3.
  for (auto const& [max, expect] : {std::pair{TLS1_2_VERSION, "TLSv1.2"},
                                    std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
    tls_test_server srv(TLS1_VERSION, max, scratch_dir());
    client_options o = plain_options(srv.url());
    o.allow_plain_http = false;
    o.ca_file = srv.ca_file();
    auto got = fetch_once(o);
    EXPECT_FALSE(got.ec) << got.error.to_string();
    EXPECT_EQ(got.pages, 1u);
    EXPECT_EQ(srv.last_version(), expect);
  }
}

// ---- redirects ----------------------------------------------------------------------------

TEST(HardeningHttp, RedirectsAreTypedErrorsAndTheLocationIsNeverContacted) {
  raw_http_server elsewhere([](raw_request const&) { return http_response(200, one_page_body()); });
  for (unsigned const code : {301u, 302u, 303u, 307u, 308u}) {
    std::string const location = elsewhere.url() + "/v2/users/data/get";
    raw_http_server srv([code, location](raw_request const&) {
      return http_response(code, "", "Location: " + location + "\r\n", "text/plain");
    });
    auto got = fetch_once(plain_options(srv.url()));
    EXPECT_EQ(got.ec, make_error_code(errc::unexpected_redirect)) << code;
    EXPECT_EQ(got.error.http_status, code);
    EXPECT_EQ(got.error.attempts, 1u) << "a redirect is not retried";
    EXPECT_EQ(srv.requests(), 1u);
  }
  EXPECT_EQ(elsewhere.connections(), 0u) << "a request (with credentials) followed a redirect";
}

TEST(HardeningHttp, RedirectOnDeleteAndStatusIsATypedError) {
  raw_http_server srv([](raw_request const&) {
    return http_response(307, "", "Location: https://evil.example/steal\r\n", "text/plain");
  });
  asio::io_context io;
  velt::client c(io.get_executor(), plain_options(srv.url()));
  error_details details;
  boost::system::error_code got_delete, got_status;
  c.async_delete_all_user_data({.user_ids = {"u"}}, details,
                               [&](boost::system::error_code ec, delete_job) { got_delete = ec; });
  c.async_get_delete_user_data_status({.job_id = "j"},
                                      [&](boost::system::error_code ec, delete_status) { got_status = ec; });
  io.run_for(10s);
  EXPECT_EQ(got_delete, make_error_code(errc::unexpected_redirect));
  EXPECT_EQ(got_status, make_error_code(errc::unexpected_redirect));
  EXPECT_EQ(details.attempts, 1u);
  EXPECT_EQ(srv.requests(), 2u);
}

// ---- header injection -----------------------------------------------------------------------

TEST(HardeningHttp, HeaderValuesWithCrLfOrNulAreRefusedBeforeAnyIo) {
  raw_http_server srv([](raw_request const&) { return http_response(200, one_page_body()); });
  asio::io_context io;
  std::string const injected_secret = "INJECTED-SECRET-PART";
  std::vector<std::string> const bad = {
      "abc\r", "abc\n", std::string("abc\0def", 7), "abc\r\nX-Injected: " + injected_secret,
      "\r\n\r\nGET / HTTP/1.1", std::string("\0", 1)};
  int refused = 0;
  for (auto const& value : bad) {
    for (int field = 0; field < 3; ++field) {
      client_options o = plain_options(srv.url());
      std::string const name = field == 0 ? "api_key" : field == 1 ? "auth_token" : "user_agent";
      (field == 0 ? o.api_key : field == 1 ? o.auth_token : o.user_agent) = value;
      try {
        velt::client c(io.get_executor(), o);
        ADD_FAILURE() << name << " with a control byte was accepted";
      } catch (velt::error const& e) {
        ++refused;
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_request));
        EXPECT_EQ(e.details().attempts, 0u);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find(injected_secret), std::string::npos)
            << "the refused value is echoed: " << e.what();
      }
    }
  }
  EXPECT_EQ(refused, static_cast<int>(bad.size() * 3));

  // On a live client: set_auth_token refuses, and the old token stays in use.
  client_options o = plain_options(srv.url());
  velt::client c(io.get_executor(), o);
  for (auto const& value : bad) {
    EXPECT_THROW(c.set_auth_token(value), velt::error);
  }
  EXPECT_THROW(c.set_auth_token(""), velt::error);
  io.run_for(50ms);
  EXPECT_EQ(srv.connections(), 0u) << "refusing a header value made I/O";

  auto got = run(io, drain_stream(c, "org-1", "user-1"));
  EXPECT_FALSE(got.ec) << got.error.to_string();
  auto const received = srv.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].header("x-velt-auth-token"), o.auth_token);
  EXPECT_EQ(received[0].head.find("X-Injected"), std::string::npos);
}

// ---- secrets ----------------------------------------------------------------------------------

// Distinctive secrets: any 8-character window of one appearing in a message is a leak.
constexpr char const* kApiKey = "AK7f3Q9zLm2Xw8Rt5Vb1nP6y";
constexpr char const* kToken = "TKq4Jd8Hs2Np6Wc9Ye3ZrU5s";

// Credentials with the bytes that end a masked run (space, quotes, angle brackets): valid
// header values. Any 6-byte window of one appearing in a message is a leak.
constexpr char const* kDelimitedKey = "AK7f3Q9z \"Lm2Xw8'Rt5Vb1nP6y";
constexpr char const* kDelimitedToken = "TKq4Jd8H <s2Np6Wc9> Ye3ZrU5sQ";

std::optional<std::string> leaked_part(std::string_view text,
                                       std::string_view key = kApiKey,
                                       std::string_view token = kToken,
                                       std::size_t window = 8) {
  for (std::string_view secret : {key, token})
    for (std::size_t i = 0; i + window <= secret.size(); ++i)
      if (text.find(secret.substr(i, window)) != std::string_view::npos)
        return std::string(secret.substr(i, window));
  return std::nullopt;
}

struct echo_case {
  char const* name;
  std::function<std::string(raw_request const&)> respond;
};

std::string echo_of(raw_request const& r) {
  return "x-velt-api-key: " + r.header("x-velt-api-key") +
         " x-velt-auth-token: " + r.header("x-velt-auth-token");
}

std::vector<echo_case> echo_cases() {
  return {
      {"json_error_message",
       [](raw_request const& r) {
         return http_response(403, R"({"error":{"status":"PERMISSION_DENIED","message":"bad )" +
                                       echo_of(r) + R"("}})");
       }},
      {"json_error_as_string",
       [](raw_request const& r) { return http_response(400, R"({"error":")" + echo_of(r) + R"("})"); }},
      {"html_gateway_page",
       [](raw_request const& r) {
         return http_response(502, "<html><body><h1>Bad gateway</h1><p>" + echo_of(r) +
                                       "</p></body></html>",
                              "", "text/html");
       }},
      {"throttled_text_retried",
       [](raw_request const& r) {
         return http_response(429, "slow down " + echo_of(r), "Retry-After: 0\r\n", "text/plain");
       }},
      {"malformed_success_content_type",
       [](raw_request const& r) {
         return http_response(200, "{not json", "",
                              "text/html; k=" + r.header("x-velt-api-key"));
       }},
      {"envelope_status_message",
       [](raw_request const& r) {
         return http_response(200, R"({"result":{"status":"failure","message":")" + echo_of(r) +
                                       R"(","data":{}}})");
       }},
      // Echoed near the end of the 200-character excerpt of a gateway page: the excerpt is
      // cut inside the secret, and redacting whole occurrences no longer finds it.
      {"html_echo_cut_by_the_excerpt",
       [](raw_request const& r) {
         return http_response(502, "<html><body>" + std::string(190, 'x') + " " +
                                       r.header("x-velt-api-key") + "</body></html>",
                              "", "text/html");
       }},
      {"content_type_cut_at_80",
       [](raw_request const& r) {
         return http_response(200, "{not json", "",
                              "text/html; " + std::string(60, 'y') + r.header("x-velt-api-key"));
       }},
  };
}

void PrintTo(echo_case const& c, std::ostream* os) { *os << c.name; }

class HardeningSecrets : public ::testing::TestWithParam<echo_case> {};

// Fetches once from a server answering with `respond` and checks that no part of the
// credentials (`window`-byte pieces) reaches the error, its exception or any log line.
void expect_no_echoed_secret(std::function<std::string(raw_request const&)> respond,
                             std::string const& key, std::string const& token,
                             std::size_t window) {
  raw_http_server srv(std::move(respond));
  client_options o = plain_options(srv.url());
  o.api_key = key;
  o.auth_token = token;
  o.retry.max_attempts = 3;
  auto lines = std::make_shared<std::vector<std::string>>();
  o.log = [lines](log_level, std::string_view l) { lines->emplace_back(l); };
  o.on_retry = [lines](retry_event const& e) { lines->push_back(e.error.to_string()); };

  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto got = run(io, drain_stream(c, "org-1", "user-1"));
  ASSERT_TRUE(got.ec) << "every case answers with an error";
  ASSERT_GE(srv.requests(), 1u);
  ASSERT_EQ(srv.received()[0].header("x-velt-api-key"), key) << "the echo works";

  std::vector<std::string> texts = *lines;
  texts.push_back(got.error.message);
  texts.push_back(got.error.to_string());
  texts.push_back(velt::error(got.error).what());
  // The same failure through use_awaitable (the exception coroutine users see).
  auto thrown = [](velt::client c) -> asio::awaitable<std::string> {
    try {
      user_data_request request{.organization_id = "org-1", .user_id = "user-1"};
      co_await c.async_fetch_user_data(std::move(request), asio::use_awaitable);
    } catch (std::exception const& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  texts.push_back(run(io, thrown(c)));
  for (auto const& t : texts) {
    auto const leak = leaked_part(t, key, token, window);
    EXPECT_FALSE(leak) << "\"" << *leak << "\" (part of a secret) leaked into: " << t;
  }
}

TEST_P(HardeningSecrets, EchoedCredentialsNeverReachMessagesOrLogs) {
  expect_no_echoed_secret(GetParam().respond, kApiKey, kToken, 8);
}

INSTANTIATE_TEST_SUITE_P(Echoes, HardeningSecrets, ::testing::ValuesIn(echo_cases()),
                         [](auto const& info) { return std::string(info.param.name); });

// ---- credentials containing spaces, quotes and angle brackets --------------------------------

// How servers re-encode what they echo: JSON (quote and backslash escaped), JSON the way
// Go and others write it (also < > & ' as \u00XX), and HTML.
std::string json_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string json_escaped_html_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\u0022"; break;
      case '\\': out += "\\\\"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '\'': out += "\\u0027"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<echo_case> delimited_echo_cases() {
  auto echo = [](raw_request const& r, std::string (*escape)(std::string_view)) {
    return "x-velt-api-key: " + escape(r.header("x-velt-api-key")) +
           " x-velt-auth-token: " + escape(r.header("x-velt-auth-token"));
  };
  return {
      {"json_escaped_error_message",
       [echo](raw_request const& r) {
         return http_response(403, R"({"error":{"status":"PERMISSION_DENIED","message":"bad )" +
                                       echo(r, json_escaped) + R"("}})");
       }},
      {"json_html_safe_escaped_error_string",
       [echo](raw_request const& r) {
         return http_response(400, R"({"error":")" + echo(r, json_escaped_html_safe) + R"("})");
       }},
      {"html_escaped_gateway_page",
       [echo](raw_request const& r) {
         return http_response(502, "<html><body><p>" + echo(r, html_escaped) + "</p></body></html>",
                              "", "text/html");
       }},
      {"html_escaped_cut_by_the_excerpt",
       [](raw_request const& r) {
         return http_response(502, "<html><body>" + std::string(185, 'x') + " " +
                                       html_escaped(r.header("x-velt-api-key")) + "</body></html>",
                              "", "text/html");
       }},
      {"json_escaped_throttled_and_retried",
       [echo](raw_request const& r) {
         return http_response(429, R"({"error":{"message":")" + echo(r, json_escaped) + R"("}})",
                              "Retry-After: 0\r\n");
       }},
      {"verbatim_text",
       [](raw_request const& r) {
         return http_response(503, "denied: x-velt-api-key: " + r.header("x-velt-api-key") +
                                       " x-velt-auth-token: " + r.header("x-velt-auth-token"),
                              "", "text/plain");
       }},
  };
}

class HardeningDelimitedSecrets : public ::testing::TestWithParam<echo_case> {};

TEST_P(HardeningDelimitedSecrets, NoTailOfACredentialWithSpacesOrQuotesLeaks) {
  expect_no_echoed_secret(GetParam().respond, kDelimitedKey, kDelimitedToken, 6);
}

INSTANTIATE_TEST_SUITE_P(Echoes, HardeningDelimitedSecrets,
                         ::testing::ValuesIn(delimited_echo_cases()),
                         [](auto const& info) { return std::string(info.param.name); });

// The masking rule itself, on the client's redact().
std::string redacted(std::string const& key, std::string text) {
  asio::io_context io;
  client_options o = plain_options("http://127.0.0.1:1");
  o.api_key = key;
  o.auth_token = "unrelated-token-0123456789";
  auto impl = std::make_shared<velt::detail::client_impl>(io.get_executor(), o);
  impl->redact(text);
  return text;
}

TEST(HardeningRedaction, FromAPrefixTheMaskCoversTheWholeCredential) {
  std::string const key = kDelimitedKey;  // AK7f3Q9z "Lm2Xw8'Rt5Vb1nP6y
  // Whole occurrences, as before.
  EXPECT_EQ(redacted(key, "k=" + key + " rest"), "k=[redacted] rest");
  // Re-encoded inside (JSON, HTML): the mask runs over the credential's length, then on to
  // the next delimiter, so no tail is left.
  EXPECT_EQ(redacted(key, "k=" + json_escaped(key) + " rest"), "k=[redacted] rest");
  EXPECT_EQ(redacted(key, "k=" + html_escaped(key) + "</p>"), "k=[redacted]</p>");
  EXPECT_EQ(redacted(key, R"({"m":"k=)" + json_escaped(key) + R"("})"), R"({"m":"k=[redacted]"})");
  EXPECT_EQ(redacted(key, "k=AK7f3Q9z &#34;Lm2Xw8&#x27;Rt5Vb1nP6y&gt;"), "k=[redacted]&gt;");
  // The escaped form is longer than the credential and its own space comes after the
  // credential's length: what matches the credential is masked, not "length, then on to
  // the next delimiter".
  std::string const token = kDelimitedToken;  // TKq4Jd8H <s2Np6Wc9> Ye3ZrU5sQ
  EXPECT_EQ(redacted(token, "t=" + json_escaped_html_safe(token) + " rest"), "t=[redacted] rest");
  EXPECT_EQ(redacted(token, "t=" + html_escaped(token) + " rest"), "t=[redacted] rest");
  // Cut by an excerpt, inside or after its space.
  EXPECT_EQ(redacted(key, "k=AK7f3Q9z \"Lm2X..."), "k=[redacted]");
  EXPECT_EQ(redacted(key, "k=AK7f3Q9z"), "k=[redacted]");
  // A delimiter within the first 8 bytes, and a line break inserted by a wrapping gateway.
  std::string const early = "AK7 f3Q9zLm2Xw8Rt5Vb";
  EXPECT_EQ(redacted(early, "k=AK7 f3Q9zLm2\nXw8Rt5Vb end"), "k=[redacted] end");
  EXPECT_EQ(redacted(early, "k=AK7 f3Q9"), "k=[redacted]");
}

TEST(HardeningRedaction, CredentialsWithoutDelimitersAreMaskedAsBefore) {
  // Up to the next delimiter only: the text after a cut echo stays readable.
  std::string const key = kApiKey;  // AK7f3Q9zLm2Xw8Rt5Vb1nP6y
  EXPECT_EQ(redacted(key, "k=" + key + " rest"), "k=[redacted] rest");
  EXPECT_EQ(redacted(key, "k=AK7f3Q9zLm2X... rest"), "k=[redacted] rest");
  EXPECT_EQ(redacted(key, R"({"m":"AK7f3Q9z"})"), R"({"m":"[redacted]"})");
  EXPECT_EQ(redacted(key, "nothing here"), "nothing here");
}

}  // namespace
}  // namespace velt::hardening
