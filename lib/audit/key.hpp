// SPDX-License-Identifier: BSL-1.0
// key.hpp: detail::key, the EVP_PKEY behind public_key and signing_key.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

namespace velt::audit::detail {

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};

/// An Ed25519 key (private or public only) and its fingerprint.
struct key {
  std::unique_ptr<EVP_PKEY, pkey_free> pkey;
  bool has_private = false;
  std::string fingerprint;  ///< keySha256: SHA-256 of the DER SubjectPublicKeyInfo, hex.
};

}  // namespace velt::audit::detail
