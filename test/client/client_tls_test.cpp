// SPDX-License-Identifier: BSL-1.0
// TLS: the client verifies the peer and its name, and refuses plain HTTP unless allowed.
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

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

// A certificate for 127.0.0.1 that is its own issuer (no CA), written as PEM files.
struct self_signed_files {
  std::filesystem::path dir, cert, key;
  self_signed_files() {
    std::string pattern = (std::filesystem::temp_directory_path() / "velt-self-signed-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    cert = dir / "cert.pem";
    key = dir / "key.pem";
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
    if (!pkey || !x) throw std::runtime_error("openssl allocation failed");
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
    X509_set_pubkey(x.get(), pkey.get());
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(x.get(), name);  // self-signed: issuer = subject
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    if (san == nullptr) throw std::runtime_error("subjectAltName failed");
    X509_add_ext(x.get(), san, -1);
    X509_EXTENSION_free(san);
    if (X509_sign(x.get(), pkey.get(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
    std::unique_ptr<FILE, decltype(&std::fclose)> cf(std::fopen(cert.c_str(), "w"), std::fclose);
    std::unique_ptr<FILE, decltype(&std::fclose)> kf(std::fopen(key.c_str(), "w"), std::fclose);
    if (!cf || !kf || PEM_write_X509(cf.get(), x.get()) != 1 ||
        PEM_write_PrivateKey(kf.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      throw std::runtime_error("cannot write the PEM files");
  }
  ~self_signed_files() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

TEST(ClientTls, SelfSignedCertificateIsRefused) {
  self_signed_files files;
  mock::server_options so;
  so.cert_file = files.cert.string();
  so.key_file = files.key.string();
  so.ca_file = files.cert.string();
  mock::server srv(so);
  auto o = options_for(srv);
  // Trusting another CA (the system store here) is not enough for a self-signed server.
  o.ca_file.clear();
  auto e = first_page_error(srv, o);
  EXPECT_NE(e.message.find("self"), std::string::npos) << e.message;
  EXPECT_EQ(e.attempts, 1u) << "trust failures are not retried";
  EXPECT_EQ(srv.stats().requests, 0u);
  // Pinning exactly that certificate as the trust anchor works: the refusal above is
  // about trust, not a broken certificate.
  o.ca_file = files.cert.string();
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user), run(io, stream_user(c, srv.organization_id(), user)).data));
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
