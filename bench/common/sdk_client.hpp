// SPDX-License-Identifier: BSL-1.0
// sdk_client.hpp: what the benchmark programs built on the SDK (the floor and the SDK
// exporter) share: client options from the common arguments, and the connection counts of
// their summary line.
#pragma once

#include "common/bench_common.hpp"

#include <velt/client_options.hpp>

#include <string>

namespace velt::bench {

/// --base-url, --ca-file and --connections, and the credentials from VELT_API_KEY and
/// VELT_AUTH_TOKEN.
inline velt::client_options client_options_from(args const& a) {
  velt::client_options opts;
  opts.base_url = a.required("--base-url");
  opts.ca_file = a.required("--ca-file");
  opts.api_key = env("VELT_API_KEY");
  opts.auth_token = env("VELT_AUTH_TOKEN");
  opts.max_connections = a.number("--connections", 16);
  // `--gzip off`: Accept-Encoding: identity (the compression scenario compares the two).
  opts.accept_gzip = a.get("--gzip", "on") != "off";
  return opts;
}

/// The summary line's connection fields, from the SDK's counters or its public stats.
template <class Stats>
std::string connection_fields(Stats const& stats) {
  return "\"connections_opened\":" + std::to_string(stats.connections_opened) +
         ",\"tls_handshakes_full\":" + std::to_string(stats.tls_handshakes_full) +
         ",\"tls_handshakes_resumed\":" + std::to_string(stats.tls_handshakes_resumed);
}

}  // namespace velt::bench
