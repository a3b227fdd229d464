// SPDX-License-Identifier: BSL-1.0
// Compressed responses over real TLS on loopback: the same pages with and without gzip (raw
// items byte for byte), fewer bytes on the wire, and typed errors for a decompression bomb,
// a corrupt or truncated gzip stream and a content coding the client does not speak.
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>

#include <vector>

namespace velt::test {
namespace {
namespace asio = boost::asio;

mock::server_options gzip_data() {
  mock::server_options o;
  o.data.users = 4;
  o.data.min_items = 150;
  o.data.max_items = 320;  // several pages per user
  o.data.empty_user_fraction = 0;
  o.data.heavy_users = 0;
  o.gzip = true;
  return o;
}

client_options gzip_options(mock::server const& srv, bool accept_gzip) {
  auto o = options_for(srv);
  o.accept_gzip = accept_gzip;
  o.max_connections = 1;  // one connection: reuse is observable
  return o;
}

/// Every raw item of a user's export, in order, as the exact text the server sent.
asio::awaitable<std::vector<std::string>> raw_items(velt::client c, std::string org, std::string user) {
  std::vector<std::string> out;
  page_stream pages = c.async_fetch_all_user_data({.organization_id = org, .user_id = user}, page_format::raw);
  while (auto page = co_await pages.async_next(asio::use_awaitable)) {
    for (auto const& feature : page->raw_features()) {
      for (std::string_view item : feature.items) out.emplace_back(feature.name + ":" + std::string(item));
    }
  }
  co_return out;
}

/// Pulls pages of one user until an error or the end; the error of the stream.
error_details first_error(asio::io_context& io, velt::client& c, mock::server const& srv, std::string const& user) {
  page_stream s = c.async_fetch_all_user_data({srv.organization_id(), user, {}});
  for (int i = 0; i < 20; ++i) {
    auto [ec, page] = run(io, s.async_next(asio::as_tuple(asio::use_awaitable)));
    if (ec || !page) break;
  }
  return s.last_error();
}

TEST(ClientGzip, PagesAreTheSameWithAndWithoutCompressionInBothFormats) {
  mock::server srv(gzip_data());
  auto const user = srv.user_ids()[1];
  asio::io_context io;
  velt::client zipped(io.get_executor(), gzip_options(srv, true));
  velt::client plain(io.get_executor(), gzip_options(srv, false));

  auto const parsed = run(io, stream_user(zipped, srv.organization_id(), user));
  EXPECT_TRUE(same_export(expected(srv, user), parsed.data));
  EXPECT_EQ(parsed.pages, srv.expected_pages(user));
  auto const gzip_stats = srv.stats();
  EXPECT_EQ(gzip_stats.responses_gzip, parsed.pages);  // the server saw Accept-Encoding: gzip

  auto const raw_zipped = run(io, raw_items(zipped, srv.organization_id(), user));
  auto const raw_plain = run(io, raw_items(plain, srv.organization_id(), user));
  ASSERT_FALSE(raw_plain.empty());
  EXPECT_EQ(raw_zipped, raw_plain);  // byte for byte
  EXPECT_EQ(srv.stats().responses_gzip, 2 * parsed.pages);  // none for the client that said no

  auto const z = zipped.stats(), p = plain.stats();
  EXPECT_EQ(z.responses_inflated, 2 * parsed.pages);
  EXPECT_EQ(p.responses_inflated, 0u);
  EXPECT_EQ(p.bytes_inflated, 0u);
  // Both fetched the raw export once; the compressed client fetched it twice in all.
  EXPECT_LT(z.bytes_received, p.bytes_received) << "gzip should shrink the bytes on the wire";
  EXPECT_LT(z.bytes_received * 2, z.bytes_inflated) << "pages compress at least twofold";
}

TEST(ClientGzip, ChunkedGzipAnswersAreInflatedAndTheConnectionIsReused) {
  mock::server srv(gzip_data());
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::chunked, .user_id = user});
  asio::io_context io;
  velt::client c(io.get_executor(), gzip_options(srv, true));
  auto const got = run(io, stream_user(c, srv.organization_id(), user, page_format::raw));
  EXPECT_TRUE(same_export(expected(srv, user), got.data));
  EXPECT_GE(got.pages, 2u);
  auto const st = c.stats();
  EXPECT_EQ(st.responses_inflated, got.pages);
  EXPECT_EQ(st.connections_opened, 1u);  // keep-alive after every gzip answer
  EXPECT_EQ(st.connections_reused, got.pages - 1);
  EXPECT_EQ(srv.stats().faults_of(mock::fault_kind::chunked), got.pages);
}

TEST(ClientGzip, ADecompressionBombIsRefusedWhileInflatingAndNotRetried) {
  mock::server srv(gzip_data());
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::gzip_bomb, .user_id = user});
  asio::io_context io;
  auto o = gzip_options(srv, true);
  o.limits.max_body_bytes = 1u << 20;  // the bomb inflates to 16 MiB from ~16 KiB
  velt::client c(io.get_executor(), o);
  auto const err = first_error(io, c, srv, user);
  EXPECT_EQ(err.code, make_error_code(errc::response_too_large));
  EXPECT_EQ(err.status, status::out_of_range);
  EXPECT_NE(err.message.find("inflated body exceeds 1048576 bytes"), std::string::npos) << err.message;
  EXPECT_EQ(err.attempts, 1u);
  EXPECT_EQ(srv.stats().requests, 1u);
  EXPECT_LT(c.stats().bytes_received, 64u << 10);  // refused long before 1 MiB came in
  // (The inflated body's memory bound is checked on the body type: ClientGzipUnit.)
}

TEST(ClientGzip, ACorruptOrTruncatedGzipStreamIsRetriedLikeABrokenConnection) {
  for (auto kind : {mock::fault_kind::gzip_corrupt, mock::fault_kind::gzip_truncated}) {
    SCOPED_TRACE(std::string(mock::to_string(kind)));
    mock::server srv(gzip_data());
    auto const user = srv.user_ids()[2];
    srv.add_fault({.kind = kind, .user_id = user, .page_index = 1, .max_times = 1});
    asio::io_context io;
    velt::client c(io.get_executor(), gzip_options(srv, true));
    auto const got = run(io, stream_user(c, srv.organization_id(), user));
    EXPECT_TRUE(same_export(expected(srv, user), got.data));
    EXPECT_EQ(c.stats().retries_transport, 1u);
    EXPECT_EQ(srv.stats().faults_of(kind), 1u);
  }
}

TEST(ClientGzip, ACorruptGzipStreamIsATypedErrorWhenNotRetried) {
  mock::server srv(gzip_data());
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::gzip_corrupt, .user_id = user});
  asio::io_context io;
  auto o = gzip_options(srv, true);
  o.retry.max_attempts = 1;
  velt::client c(io.get_executor(), o);
  auto const err = first_error(io, c, srv, user);
  EXPECT_EQ(err.code, make_error_code(errc::malformed_response));
  EXPECT_EQ(err.delivery, delivery::maybe_delivered);
  EXPECT_NE(err.message.find("corrupt gzip body: incorrect data check"), std::string::npos) << err.message;
  // Even a client that did not ask for gzip decodes (and checks) a gzip answer.
  velt::client plain(io.get_executor(), gzip_options(srv, false));
  auto const again = first_error(io, plain, srv, user);
  EXPECT_EQ(again.code, make_error_code(errc::malformed_response));
}

TEST(ClientGzip, AnUnsupportedContentCodingIsATypedErrorThatNamesIt) {
  mock::server srv(gzip_data());
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::unsupported_encoding, .user_id = user});
  asio::io_context io;
  velt::client c(io.get_executor(), gzip_options(srv, true));
  auto const err = first_error(io, c, srv, user);
  EXPECT_EQ(err.code, make_error_code(errc::unsupported_content_coding));
  EXPECT_EQ(err.status, status::unimplemented);
  EXPECT_NE(err.message.find("unsupported Content-Encoding 'br'"), std::string::npos) << err.message;
  EXPECT_EQ(srv.stats().requests, 1u);  // not retried
}

}  // namespace
}  // namespace velt::test
