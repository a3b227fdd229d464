// SPDX-License-Identifier: BSL-1.0
// Shared by the examples: read the connection settings a user would pass.
//   VELT_BASE_URL (default https://api.velt.dev), VELT_CA_FILE (default: system store),
//   VELT_API_KEY, VELT_AUTH_TOKEN (required; secrets come from the environment, never argv).
#pragma once

#include <velt/client_options.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>

inline std::optional<velt::client_options> options_from_environment() {
  auto get = [](char const* name) -> std::string {
    char const* v = std::getenv(name);
    return v ? v : "";
  };
  velt::client_options o;
  if (auto url = get("VELT_BASE_URL"); !url.empty()) o.base_url = url;
  o.ca_file = get("VELT_CA_FILE");
  o.api_key = get("VELT_API_KEY");
  o.auth_token = get("VELT_AUTH_TOKEN");
  if (o.api_key.empty() || o.auth_token.empty()) {
    std::cerr << "set VELT_API_KEY and VELT_AUTH_TOKEN\n";
    return std::nullopt;
  }
  return o;
}
