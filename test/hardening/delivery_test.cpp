// SPDX-License-Identifier: BSL-1.0
// Delivery (error_details::delivery) where a scripted peer is needed: a pooled TLS
// connection that dies after the request went out while the server goes away (the resend
// finds nobody), interim responses without end, redirects and page-token cycles.
#include "hardening_support.hpp"
#include "mock/certificates.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

namespace velt::hardening {
namespace {

/// A loopback TLS peer with one connection: it answers the first request with `answer`
/// (keeping the connection open), reads the second one, then stops listening and drops the
/// connection without a word. To the client: a pooled connection that died after the
/// request went out, and nobody left to send it to again.
class vanishing_tls_peer {
 public:
  explicit vanishing_tls_peer(std::string answer) : answer_(std::move(answer)) {
    auto certs = mock::detail::generate_certificates({"127.0.0.1"}, false);
    ca_file_ = scratch_dir("delivery-") / "vanishing_peer_ca.pem";
    std::ofstream(ca_file_) << certs.ca_pem;
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new");
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
    if (!ok) throw std::runtime_error("vanishing_tls_peer: cannot load the certificate");
    listen_fd_ = velt::test::bind_loopback(port_, 8);
    if (listen_fd_ < 0) throw std::runtime_error("vanishing_tls_peer: cannot listen");
    thread_ = std::thread([this] { serve(); });
  }
  ~vanishing_tls_peer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  vanishing_tls_peer(vanishing_tls_peer const&) = delete;
  vanishing_tls_peer& operator=(vanishing_tls_peer const&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string ca_file() const { return ca_file_.string(); }
  std::size_t requests() const { return requests_.load(); }

 private:
  void serve() {
    int c = -1;
    while (!stop_.load() && c < 0) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) c = ::accept(listen_fd_, nullptr, nullptr);
    }
    if (c < 0) return;
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
      auto read = [ssl](char* b, std::size_t n) { return static_cast<long>(SSL_read(ssl, b, static_cast<int>(n))); };
      if (read_request(read)) {
        ++requests_;
        SSL_write(ssl, answer_.data(), static_cast<int>(answer_.size()));
        if (read_request(read)) ++requests_;
      }
    }
    // Nobody to reconnect to, then the connection ends with no close_notify and no answer.
    ::close(listen_fd_);
    listen_fd_ = -1;
    ERR_clear_error();
    SSL_free(ssl);
    ::close(c);
  }

  std::string answer_;
  SSL_CTX* ctx_ = nullptr;
  std::filesystem::path ca_file_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> requests_{0};
  std::thread thread_;
};

/// A keep-alive answer to a status poll.
std::string status_answer() {
  std::string const body = R"({"result":{"status":"success","message":"ok",)"
                           R"("data":{"isDeleteCompleted":false,"tasksLeft":2}}})";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

client_options options_for(vanishing_tls_peer const& peer) {
  client_options o = plain_options(peer.url());
  o.allow_plain_http = false;
  o.ca_file = peer.ca_file();
  o.retry.max_attempts = 1;
  return o;
}

TEST(HardeningDelivery, AStaleConnectionResendToAVanishedServerIsNotSent) {
  // A status poll (safe to repeat) is resent once on a fresh connection, which cannot be
  // made: the final attempt sent nothing.
  {
    vanishing_tls_peer peer(status_answer());
    asio::io_context io;
    velt::client c(io.get_executor(), options_for(peer));
    delete_status_request first{.job_id = "job-1"};
    auto [ec1, st1] = run(io, c.async_get_delete_user_data_status(first, asio::as_tuple(asio::use_awaitable)));
    ASSERT_FALSE(ec1) << ec1.message();
    error_details details;
    delete_status_request second{.job_id = "job-1"};
    auto [ec2, st2] = run(io, c.async_get_delete_user_data_status(second, details,
                                                                  asio::as_tuple(asio::use_awaitable)));
    EXPECT_TRUE(ec2);
    EXPECT_EQ(c.stats().stale_resends, 1u);
    EXPECT_EQ(peer.requests(), 2u);
    EXPECT_NE(details.message.find("connect"), std::string::npos) << details.to_string();
    EXPECT_EQ(details.delivery, delivery::not_sent) << details.to_string();
    EXPECT_FALSE(may_have_taken_effect(details));
  }
  // A delete on the same kind of connection is never resent: it may have been delivered.
  {
    vanishing_tls_peer peer(status_answer());
    asio::io_context io;
    velt::client c(io.get_executor(), options_for(peer));
    delete_status_request first{.job_id = "job-1"};
    auto [ec1, st1] = run(io, c.async_get_delete_user_data_status(first, asio::as_tuple(asio::use_awaitable)));
    ASSERT_FALSE(ec1) << ec1.message();
    error_details details;
    delete_user_data_request erase{.user_ids = {"u"}};
    auto [ec2, job] = run(io, c.async_delete_all_user_data(erase, details, asio::as_tuple(asio::use_awaitable)));
    EXPECT_TRUE(ec2);
    EXPECT_EQ(c.stats().stale_resends, 0u);
    EXPECT_EQ(details.delivery, delivery::maybe_delivered) << details.to_string();
    EXPECT_TRUE(may_have_taken_effect(details));
    EXPECT_NE(details.message.find("not resent"), std::string::npos) << details.message;
  }
}

/// One deletion of user "u" with a fresh client, its details kept.
error_details delete_once(client_options o) {
  asio::io_context io;
  velt::client c(io.get_executor(), std::move(o));
  error_details details;
  delete_user_data_request erase{.user_ids = {"u"}};
  (void)run(io, c.async_delete_all_user_data(erase, details, asio::as_tuple(asio::use_awaitable)));
  return details;
}

TEST(HardeningDelivery, InterimResponsesWithoutEndAreNoAnswer) {
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += "HTTP/1.1 102 Processing\r\n\r\n";
  raw_http_server srv([nine](raw_request const&) {
    return nine + http_response(202, R"({"status":"success","data":{"jobId":"j"},"statusCode":202})");
  });
  auto const d = delete_once(plain_options(srv.url()));
  EXPECT_EQ(d.code, make_error_code(errc::malformed_response)) << d.to_string();
  EXPECT_EQ(d.delivery, delivery::maybe_delivered);
  EXPECT_EQ(d.http_status, 0u);
  EXPECT_TRUE(may_have_taken_effect(d));
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningDelivery, ARedirectIsAnAnswerThatTookNoEffect) {
  raw_http_server srv([](raw_request const&) {
    return http_response(307, "", "Location: https://elsewhere.example/v2/users/data/delete\r\n");
  });
  auto const d = delete_once(plain_options(srv.url()));
  EXPECT_EQ(d.code, make_error_code(errc::unexpected_redirect)) << d.to_string();
  EXPECT_EQ(d.delivery, delivery::answered);
  EXPECT_EQ(d.http_status, 307u);
  EXPECT_FALSE(may_have_taken_effect(d));
}

TEST(HardeningDelivery, APageTokenCycleIsAnAnsweredError) {
  raw_http_server srv([](raw_request const& r) {
    std::string next = "A";
    if (r.body.find(R"("pageToken":"A")") != std::string::npos) next = "B";
    return http_response(200, R"({"result":{"status":"success","data":{"comments":[]},)"
                              R"("nextPageToken":")" + next + R"("}})");
  });
  auto const got = fetch_once(plain_options(srv.url()));
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response)) << got.error.to_string();
  EXPECT_EQ(got.error.delivery, delivery::answered);
  EXPECT_EQ(got.error.http_status, 200u);
  EXPECT_EQ(got.pages, 2u);
}

}  // namespace
}  // namespace velt::hardening
