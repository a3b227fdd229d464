// TLS: the client verifies the peer and its name, and refuses plain HTTP unless allowed.
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>

namespace velt::test {
namespace {
namespace asio = boost::asio;

error_details first_page_error(mock::server const& srv, client_options o) {
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  page_stream s = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto [ec, page] = run(io, s.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_TRUE(ec);
  return s.last_error();
}

TEST(ClientTls, WrongHostNameIsRefused) {
  mock::server_options so;
  so.cert_hosts = {"localhost"};  // the client connects to 127.0.0.1
  mock::server srv(so);
  auto e = first_page_error(srv, options_for(srv));
  EXPECT_NE(e.message.find("TLS handshake"), std::string::npos) << e.message;
  EXPECT_EQ(e.attempts, 1u) << "trust failures are not retried";
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(ClientTls, NameVerifiedByDnsNameWorks) {
  mock::server_options so;
  so.cert_hosts = {"localhost"};
  mock::server srv(so);
  auto o = options_for(srv);
  o.base_url = "https://localhost:" + std::to_string(srv.port());
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
}

TEST(ClientTls, UntrustedCertificateIsRefused) {
  mock::server srv(mock::server_options{});
  auto o = options_for(srv);
  o.ca_file.clear();  // the system store does not know the mock's CA
  auto e = first_page_error(srv, o);
  EXPECT_NE(e.message.find("certificate"), std::string::npos) << e.message;
  EXPECT_EQ(e.attempts, 1u);
}

TEST(ClientTls, ExpiredCertificateIsRefused) {
  mock::server_options so;
  so.cert_expired = true;
  mock::server srv(so);
  auto e = first_page_error(srv, options_for(srv));
  EXPECT_NE(e.message.find("expired"), std::string::npos) << e.message;
}

TEST(ClientTls, PlainHttpOnlyWhenExplicitlyAllowed) {
  mock::server_options so;
  so.tls = false;
  mock::server srv(so);
  auto o = options_for(srv);
  o.ca_file.clear();
  asio::io_context io;
  EXPECT_THROW(velt::client(io.get_executor(), o), velt::error);
  o.allow_plain_http = true;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
}

TEST(ClientTls, TlsToAPlainServerFailsWithATypedError) {
  mock::server_options so;
  so.tls = false;
  mock::server srv(so);
  auto o = options_for(srv);
  o.base_url = "https://127.0.0.1:" + std::to_string(srv.port());
  o.ca_file.clear();
  auto e = first_page_error(srv, o);
  EXPECT_NE(e.status, status::ok);
  EXPECT_EQ(e.attempts, 1u);
}

}  // namespace
}  // namespace velt::test
