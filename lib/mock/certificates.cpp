// SPDX-License-Identifier: BSL-1.0
#include "certificates.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace velt::mock::detail {

namespace {

template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;

[[noreturn]] void fail(std::string const& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error("certificate generation: " + what + ": " + buf);
}

template <class P>
P check(P p, char const* what) {
  if (!p) fail(what);
  return p;
}

void check(int ok, char const* what) {
  if (ok <= 0) fail(what);
}

pkey_ptr make_key() { return pkey_ptr(check(EVP_EC_gen("P-256"), "EVP_EC_gen")); }

void add_extension(X509* cert, X509* issuer, int nid, std::string const& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext(check(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()), "X509V3_EXT_conf_nid"));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

x509_ptr make_cert(EVP_PKEY* key, char const* common_name, long not_before_s, long not_after_s) {
  x509_ptr cert(check(X509_new(), "X509_new"));
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, deleter<BN_free>> bn(check(BN_bin2bn(serial, sizeof serial, nullptr), "BN_bin2bn"));
  check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr ? 1 : 0, "BN_to_ASN1_INTEGER");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before_s) != nullptr ? 1 : 0, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_s) != nullptr ? 1 : 0, "notAfter");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("velt-mock"), -1, -1, 0), "O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>(common_name), -1, -1, 0), "CN");
  return cert;
}

std::string to_pem(X509* cert) {
  bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  char* data = nullptr;
  long const n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
  bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long const n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

bool is_ip(std::string const& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

generated_certificates generate_certificates(std::vector<std::string> const& hosts, bool expired) {
  if (hosts.empty()) throw std::invalid_argument("cert_hosts is empty");
  constexpr long day = 24 * 3600;
  pkey_ptr const ca_key = make_key();
  x509_ptr const ca = make_cert(ca_key.get(), "velt-mock test CA", -day, 30 * day);
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "X509_set_issuer_name");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()), "X509_sign (CA)");

  pkey_ptr const key = make_key();
  long const from = expired ? -30 * day : -day;
  long const to = expired ? -day : 30 * day;
  x509_ptr const cert = make_cert(key.get(), hosts.front().c_str(), from, to);
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())), "X509_set_issuer_name");
  add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (auto const& h : hosts) {
    if (h.empty() || h.find_first_of(",\r\n") != std::string::npos) {
      throw std::invalid_argument("cert_hosts entry is not a host name or address: " + h);
    }
    if (!san.empty()) san += ',';
    san += (is_ip(h) ? "IP:" : "DNS:") + h;
  }
  add_extension(cert.get(), ca.get(), NID_subject_alt_name, san);
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()), "X509_sign (server)");

  return generated_certificates{to_pem(ca.get()), to_pem(cert.get()), to_pem(key.get())};
}

}  // namespace velt::mock::detail
