// SPDX-License-Identifier: BSL-1.0
// Limits: whatever a server makes big (header block, body, JSON nesting) is bounded by the
// client's options and ends in a typed error that is not retried.
#include "hardening_support.hpp"

#include <cstdio>

namespace velt::hardening {
namespace {

mock::server_options big_pages() {
  mock::server_options o;
  o.data.users = 3;
  o.data.min_items = 150;
  o.data.max_items = 200;  // full pages of 100 items per feature: far above 64 KiB
  o.data.empty_user_fraction = 0;
  o.data.heavy_users = 0;
  return o;
}

client_options tls_options(mock::server const& srv) {
  client_options o;
  o.base_url = srv.url();
  o.api_key = srv.api_key();
  o.auth_token = srv.auth_token();
  o.ca_file = srv.ca_file().string();
  o.max_connections = 2;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  return o;
}

stream_outcome fetch(client_options o, std::string const& org, std::string const& user) {
  asio::io_context io;
  velt::client c(io.get_executor(), std::move(o));
  return run(io, drain_stream(c, org, user));
}

TEST(HardeningLimits, OversizedHeaderBlockIsATypedErrorNotRetried) {
  mock::server srv(big_pages());
  auto const user = srv.user_ids()[0];
  mock::fault f{.kind = mock::fault_kind::oversized_headers, .user_id = user};
  f.header_bytes = 32 * 1024;
  srv.add_fault(f);

  auto o = tls_options(srv);
  o.max_header_bytes = 16 * 1024;
  auto got = fetch(o, srv.organization_id(), user);
  EXPECT_EQ(got.ec, make_error_code(errc::response_too_large)) << got.error.to_string();
  EXPECT_EQ(got.error.status, status::out_of_range);
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_EQ(srv.stats().requests, 1u) << "an over-size answer is not retried";
  EXPECT_EQ(got.pages, 0u);

  // The same headers fit a larger configured limit: the limit is the option, not a constant.
  srv.reset_stats();
  o.max_header_bytes = 128 * 1024;
  auto ok = fetch(o, srv.organization_id(), user);
  EXPECT_FALSE(ok.ec) << ok.error.to_string();
  EXPECT_TRUE(same_export(srv.expected_export(user), ok.data));
}

TEST(HardeningLimits, BodyOverTheLimitIsATypedErrorNotRetried) {
  mock::server srv(big_pages());
  auto const user = srv.user_ids()[0];
  ASSERT_GT(srv.page_body(user, 0).size(), 64u * 1024) << "the test needs a page above 64 KiB";

  auto o = tls_options(srv);
  o.limits.max_body_bytes = 64 * 1024;
  auto got = fetch(o, srv.organization_id(), user);
  EXPECT_EQ(got.ec, make_error_code(errc::response_too_large)) << got.error.to_string();
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_EQ(srv.stats().requests, 1u);
  EXPECT_EQ(got.pages, 0u);
}

TEST(HardeningLimits, ChunkedBodyOverTheLimitIsATypedErrorNotRetried) {
  // No Content-Length to refuse up front: the limit must hold while the chunks arrive.
  mock::server srv(big_pages());
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::chunked});
  auto o = tls_options(srv);
  o.limits.max_body_bytes = 64 * 1024;
  auto got = fetch(o, srv.organization_id(), user);
  EXPECT_EQ(got.ec, make_error_code(errc::response_too_large)) << got.error.to_string();
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_EQ(srv.stats().requests, 1u);
}

TEST(HardeningLimits, HugeContentLengthIsRefusedWithoutWaitingForTheBody) {
  raw_http_server srv([](raw_request const&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 10000000000000\r\n\r\n{\"result\":");
  });
  auto o = plain_options(srv.url());
  o.timeouts.idle_read = 10s;  // a client that waited for the body would hit the run limit
  auto const start = std::chrono::steady_clock::now();
  auto got = fetch(o, "org", "user");
  EXPECT_EQ(got.ec, make_error_code(errc::response_too_large)) << got.error.to_string();
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_EQ(srv.requests(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

/// Writes `head`, then `filler` bytes in 64 KiB writes until the client stops reading (or
/// `max_bytes` are out); records how many filler bytes were accepted by the socket.
raw_http_server::writer endless(std::string head, char filler, std::size_t max_bytes,
                                std::shared_ptr<std::atomic<std::size_t>> sent) {
  return [head = std::move(head), filler, max_bytes, sent](int fd, raw_request const&) {
    if (!send_all(fd, head)) return;
    std::string const block(64 * 1024, filler);
    while (sent->load() < max_bytes && send_all(fd, block)) sent->fetch_add(block.size());
  };
}

// Beast 1.81's parser bounds the header block and the body, but not a chunk header's
// extensions nor the trailer after the last chunk: it asks for more input until the line
// ends, and the connection's read buffer grows with it. The client must still stop at its
// limits instead of buffering whatever the server sends.
struct endless_case {
  char const* name;
  char const* head;
  char filler;
};

class HardeningEndlessChunked : public ::testing::TestWithParam<endless_case> {};

TEST_P(HardeningEndlessChunked, IsBoundedByTheClientsLimits) {
  constexpr std::size_t max_bytes = 256u << 20;
  auto sent = std::make_shared<std::atomic<std::size_t>>(0);
  raw_http_server srv(endless(GetParam().head, GetParam().filler, max_bytes, sent));
  auto o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  o.max_header_bytes = 16 * 1024;
  o.limits.max_body_bytes = 64 * 1024;
  o.timeouts.request = 20s;
  auto got = fetch(o, "org", "user");
  std::printf("[ limits   ] %s: the server got %zu KiB out before the client stopped: %s\n",
              GetParam().name, sent->load() >> 10, got.error.to_string().c_str());
  EXPECT_EQ(got.ec, make_error_code(errc::response_too_large)) << got.error.to_string();
  EXPECT_LT(sent->load(), std::size_t{8} << 20)
      << "the client kept reading far beyond its header and body limits";
}

void PrintTo(endless_case const& c, std::ostream* os) { *os << c.name; }

INSTANTIATE_TEST_SUITE_P(
    Streams, HardeningEndlessChunked,
    ::testing::Values(
        endless_case{"chunk_extension",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n1;ext=",
                     'e'},
        endless_case{"trailer",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: ",
                     't'},
        endless_case{"header_line",
                     "HTTP/1.1 200 OK\r\nX-Endless: ", 'h'},
        endless_case{"body_without_length",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[", ' '}),
    [](auto const& info) { return std::string(info.param.name); });

/// A success envelope whose first comment is nested `extra` arrays deep. The document's
/// depth is extra + 4 (root object, result, data, comments).
std::string nested_page(std::size_t extra) {
  return R"({"result":{"data":{"comments":[)" + std::string(extra, '[') + "1" +
         std::string(extra, ']') + "]}}}";
}

TEST(HardeningLimits, JsonNestedTooDeepIsATypedErrorNotRetried) {
  for (std::size_t const extra : {std::size_t{61}, std::size_t{100}, std::size_t{100000}}) {
    raw_http_server srv([extra](raw_request const&) {
      return http_response(200, nested_page(extra));
    });
    auto got = fetch(plain_options(srv.url()), "org", "user");
    EXPECT_EQ(got.ec, make_error_code(errc::response_too_deep))
        << "depth " << extra + 4 << ": " << got.error.to_string();
    EXPECT_EQ(got.error.status, status::out_of_range);
    EXPECT_EQ(got.error.attempts, 1u);
    EXPECT_EQ(srv.requests(), 1u) << "too-deep answers are not retried";
  }
}

TEST(HardeningLimits, JsonDepthLimitIsTheConfiguredOne) {
  // Depth 64 (the default limit) is accepted and kept verbatim; a lower configured limit
  // refuses the same body.
  raw_http_server srv([](raw_request const&) { return http_response(200, nested_page(60)); });
  auto got = fetch(plain_options(srv.url()), "org", "user");
  ASSERT_FALSE(got.ec) << got.error.to_string();
  ASSERT_EQ(got.data["comments"].as_array().size(), 1u);
  boost::json::value const* v = &got.data["comments"].as_array()[0];
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(v->is_array());
    v = &v->as_array()[0];
  }
  EXPECT_EQ(*v, boost::json::value(1));

  auto o = plain_options(srv.url());
  o.limits.max_depth = 16;
  auto refused = fetch(o, "org", "user");
  EXPECT_EQ(refused.ec, make_error_code(errc::response_too_deep)) << refused.error.to_string();
  EXPECT_EQ(refused.error.attempts, 1u);
}

}  // namespace
}  // namespace velt::hardening
