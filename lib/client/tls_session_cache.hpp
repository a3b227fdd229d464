// SPDX-License-Identifier: BSL-1.0
// Keeps the newest resumable TLS session of an origin so that new pooled connections can
// resume it (an abbreviated handshake) instead of a full one. Thread-safe.
#pragma once

#include <openssl/ssl.h>

#include <mutex>

namespace velt::detail {

class tls_session_cache {
 public:
  tls_session_cache() = default;
  tls_session_cache(tls_session_cache const&) = delete;
  tls_session_cache& operator=(tls_session_cache const&) = delete;
  ~tls_session_cache() {
    if (session_) SSL_SESSION_free(session_);
  }

  /// Offers the cached session (if any) to a connection about to handshake.
  void apply(SSL* ssl) {
    std::lock_guard lock(mutex_);
    if (session_) SSL_set_session(ssl, session_);
  }

  /// Remembers the connection's session when it can be resumed.
  void store(SSL* ssl) {
    SSL_SESSION* s = SSL_get1_session(ssl);
    if (!s) return;
    if (!SSL_SESSION_is_resumable(s)) {
      SSL_SESSION_free(s);
      return;
    }
    std::lock_guard lock(mutex_);
    if (session_) SSL_SESSION_free(session_);
    session_ = s;
  }

 private:
  std::mutex mutex_;
  SSL_SESSION* session_ = nullptr;
};

}  // namespace velt::detail
