// SPDX-License-Identifier: BSL-1.0
// Throw-away certificates for the mock, made in memory with OpenSSL 3: a CA (P-256,
// basicConstraints CA:TRUE) and a server certificate it signs, with the given host names
// and IP addresses as subjectAltNames.
#pragma once

#include <string>
#include <vector>

namespace velt::mock::detail {

struct generated_certificates {
  std::string ca_pem;    ///< the CA certificate, for the client to trust
  std::string cert_pem;  ///< the server certificate
  std::string key_pem;   ///< the server's private key (PKCS#8)
};

/// Makes a CA and a server certificate for `hosts` (each an IP address or a DNS name).
/// `expired`: the server certificate's validity ended yesterday. Throws std::runtime_error.
generated_certificates generate_certificates(std::vector<std::string> const& hosts, bool expired);

}  // namespace velt::mock::detail
