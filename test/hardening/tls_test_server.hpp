// SPDX-License-Identifier: BSL-1.0
// A tiny loopback TLS server built directly on OpenSSL, so that a test can choose the
// protocol versions it offers (down to TLS 1.0, which velt::mock never speaks). It answers
// a request with one user-data page (or the raw bytes the test gives), and records what
// happened.
#pragma once

#include "hardening_support.hpp"
#include "mock/certificates.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

namespace velt::hardening {

class tls_test_server {
 public:
  /// Serves with a certificate for 127.0.0.1 offering only [min_version, max_version]
  /// (TLS1_VERSION ... TLS1_3_VERSION). The CA is written to `ca_file()`. Each request is
  /// answered with `response` (raw bytes; by default a one-page 200).
  tls_test_server(int min_version, int max_version, std::filesystem::path const& dir,
                  std::string response = http_response(200, one_page_body()))
      : response_(std::move(response)) {
    auto certs = mock::detail::generate_certificates({"127.0.0.1"}, false);
    ca_file_ = dir / "tls_test_server_ca.pem";
    std::ofstream(ca_file_) << certs.ca_pem;

    ctx_ = SSL_CTX_new(TLS_server_method());
    if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new");
    // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at the default security level; a
    // server stuck in the past runs at level 0. The client must refuse it anyway.
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, min_version);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    BIO* cert_bio = BIO_new_mem_buf(certs.cert_pem.data(), static_cast<int>(certs.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(certs.key_pem.data(), static_cast<int>(certs.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(key_bio);
    bool const ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(ctx_, cert) == 1 &&
                    SSL_CTX_use_PrivateKey(ctx_, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) throw std::runtime_error("tls_test_server: cannot load the certificate");
    listener_.start([this](int fd) { serve(fd); });
  }
  ~tls_test_server() {
    listener_.stop();
    SSL_CTX_free(ctx_);
  }
  tls_test_server(tls_test_server const&) = delete;
  tls_test_server& operator=(tls_test_server const&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(listener_.port()); }
  std::string ca_file() const { return ca_file_.string(); }
  std::size_t connections() const { return listener_.connections(); }
  std::size_t handshakes() const { return handshakes_.load(); }
  std::size_t handshake_failures() const { return failures_.load(); }
  std::size_t requests() const { return requests_.load(); }
  /// The protocol of the last completed handshake ("TLSv1.2", ...).
  std::string last_version() const {
    std::lock_guard lock(mutex_);
    return last_version_;
  }

 private:
  void serve(int fd) {
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ++failures_;
      ERR_clear_error();
      SSL_free(ssl);
      return;
    }
    ++handshakes_;
    {
      std::lock_guard lock(mutex_);
      last_version_ = SSL_get_version(ssl);
    }
    auto req = read_request([ssl](char* b, std::size_t n) {
      return static_cast<long>(SSL_read(ssl, b, static_cast<int>(n)));
    });
    if (req) {
      ++requests_;
      SSL_write(ssl, response_.data(), static_cast<int>(response_.size()));
      SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
  }

  std::string response_;
  SSL_CTX* ctx_ = nullptr;
  std::filesystem::path ca_file_;
  std::atomic<std::size_t> handshakes_{0}, failures_{0}, requests_{0};
  mutable std::mutex mutex_;
  std::string last_version_;
  loopback_listener listener_;
};

}  // namespace velt::hardening
