// SPDX-License-Identifier: BSL-1.0
// credentials.hpp: the API key and auth token, from the environment or from files; never
// from the command line (argv is visible to every user of the machine).
#pragma once

#include <stdexcept>
#include <string>

namespace velt::gdpr {

struct credentials {
  std::string api_key;
  std::string auth_token;
};

/// Missing or unreadable credentials. The message names where they were looked for and
/// never contains a secret.
class credentials_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `--api-key-file` / `--auth-token-file` when given (the file's content without trailing
/// whitespace and newlines), else `VELT_API_KEY` / `VELT_AUTH_TOKEN`. Throws
/// credentials_error when either is missing or empty.
credentials load_credentials(std::string const& api_key_file, std::string const& auth_token_file);

}  // namespace velt::gdpr
