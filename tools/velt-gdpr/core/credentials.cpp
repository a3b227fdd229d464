// SPDX-License-Identifier: BSL-1.0
#include "core/credentials.hpp"

#include "core/atomic_file.hpp"

#include <cstdlib>
#include <filesystem>

namespace velt::gdpr {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

std::string load_one(std::string const& file, char const* env, char const* option, char const* what) {
  if (!file.empty()) {
    std::string value;
    try {
      value = trimmed(read_file(file));
    } catch (std::filesystem::filesystem_error const& e) {
      throw credentials_error(std::string("cannot read ") + option + " '" + file +
                              "': " + e.code().message());
    }
    if (value.empty()) throw credentials_error(std::string(option) + " '" + file + "' is empty");
    return value;
  }
  char const* v = std::getenv(env);
  if (v == nullptr || *v == '\0') {
    throw credentials_error(std::string("no ") + what + ": set " + env + " or pass " + option +
                            " FILE (secrets are never accepted as command-line values)");
  }
  return v;
}

}  // namespace

credentials load_credentials(std::string const& api_key_file, std::string const& auth_token_file) {
  credentials c;
  c.api_key = load_one(api_key_file, "VELT_API_KEY", "--api-key-file", "API key");
  c.auth_token = load_one(auth_token_file, "VELT_AUTH_TOKEN", "--auth-token-file", "auth token");
  return c;
}

}  // namespace velt::gdpr
