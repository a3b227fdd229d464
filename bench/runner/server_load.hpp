// SPDX-License-Identifier: BSL-1.0
// Scenario 5, "export inside a server": examples/export_in_server under load from wrk.
// What this file holds: running wrk with bench/export_in_server.lua (random users, a JSON
// summary line at the end) and reading its result, and fetching one export from the
// example the way its users' clients would, to check it against the data set.
#pragma once

#include "runner/process.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace velt::bench {

/// One wrk run, as the Lua script's `done` reports it.
struct load_result {
  child_result proc;  ///< wrk itself (its CPU is the load generator's, not the server's)
  std::uint64_t requests = 0;  ///< responses completed (exports, successful or not)
  std::uint64_t errors = 0;    ///< non-2xx answers, socket errors and timeouts
  double duration_s = 0;
  std::uint64_t bytes = 0;  ///< read by wrk: the exports' bodies and headers
  std::uint64_t p50_us = 0, p99_us = 0, max_us = 0;
  std::string problem;  ///< why the run gave no numbers (empty when it did)
  bool ok() const { return problem.empty() && proc.ok(); }
};

struct load_settings {
  std::filesystem::path wrk, script, exec_helper;
  std::string url;  ///< http://127.0.0.1:PORT/
  std::string organization_id;
  std::size_t users = 0;  ///< requests pick user-0001 .. user-N at random
  std::size_t connections = 64;
  std::chrono::seconds duration{20};
  std::filesystem::path out_file, err_file;
};

/// Runs `wrk -t1 -cN -dS` with the script; bounded by the duration plus a minute.
load_result run_load(load_settings const& s);

/// One user's export fetched from the example (GET /export/ORG/USER) and merged: every
/// feature's items of every line, in order. `problem` says what was wrong, if anything
/// (HTTP status, an incomplete chunked body, a line that is not JSON, an "error" line, an
/// index out of sequence).
struct fetched_export {
  std::string problem;
  std::size_t pages = 0;
  boost::json::object data;
};
fetched_export fetch_export(std::string const& base_url, std::string const& organization_id,
                            std::string const& user_id);

}  // namespace velt::bench
