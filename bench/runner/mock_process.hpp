// SPDX-License-Identifier: BSL-1.0
// velt-mock-server as a separate process (so that its CPU is not the client's): started
// with the scenario's flags, ready when it prints its JSON line, asked for its counters
// over HTTPS (GET /_mock/stats), stopped with SIGTERM.
#pragma once

#include "runner/process.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace velt::bench {

class mock_process {
 public:
  mock_process(std::filesystem::path const& exe, std::vector<std::string> const& flags,
               std::filesystem::path const& log_file, std::chrono::seconds ready_limit);

  std::string url, ca_file, api_key, auth_token, organization_id;

  pid_t pid() const { return process_.pid(); }
  double cpu_seconds() const;
  /// The server's counters (GET /_mock/stats).
  boost::json::object stats() const;
  void stop() { process_.stop(); }

 private:
  server_child process_;
};

/// A counter of a /_mock/stats object (0 when absent).
std::uint64_t counter(boost::json::object const& stats, char const* name);

}  // namespace velt::bench
