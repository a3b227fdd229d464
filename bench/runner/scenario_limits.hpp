// SPDX-License-Identifier: BSL-1.0
// Scenarios 6 and 7 of BENCHMARKS.md (issue 13): `velt-gdpr export` at its default settings
// against velt-mock-server's models of real limits.
//
//   rate-limited  a token bucket (--rate-limit R,BURST; 429 without Retry-After, as nginx's
//                 limit_req answers) at several R, and a fixed-window quota (--quota N/S):
//                 goodput as a fraction of the limit, share of requests refused, users failed
//                 (scenario_limits.cpp)
//   outage        the upstream down for 4 s during the run (--outage START+4s, refused
//                 connections and nginx's 503 page): wall time against the same run without
//                 one, users failed, time from the upstream's return to full speed; and a
//                 run whose outage outlasts the CLI's --max-stall (scenario_outage.cpp)
//
// Each case gets a fresh server: its limits count time from the server's start (the bucket
// starts full, quota windows and the outage window start then).
#pragma once

#include "runner/mock_process.hpp"
#include "runner/process.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace velt::bench {

struct limits_settings {
  std::filesystem::path mock_exe, cli_exe, exec_helper, work_dir;
  bool quick = false;
  bool cli_available = false;
  std::function<void()> check_stop;  ///< throws when the runner is being interrupted
};

struct limits_target {
  std::string id, text, measured;
  std::optional<bool> met;
};

/// What one scenario reports: its JSON object (as in bench/results/latest.json), its
/// Markdown section and its targets.
struct limits_report {
  boost::json::object json;
  std::string markdown;
  std::vector<limits_target> targets;
  bool failed = false;  ///< a run ended other than with exit 0 or 3 (crash, time limit, usage)
};

limits_report run_rate_limited(limits_settings const& s);
limits_report run_outage(limits_settings const& s);

// ---- shared by the two scenarios ----------------------------------------------------------

/// Pages per user of the data set both scenarios use: 6 items per feature, page size 2.
inline constexpr std::size_t limits_pages_per_user = 3;

/// velt-mock-server's flags for that data set with `users` users (seed 1, no empty or heavy
/// users, no empty pages), before the scenario's own flags.
std::vector<std::string> small_pages_flags(std::size_t users);

/// user-0001 .. user-N, one a line, in `dir`/`name`.users.
std::filesystem::path write_users_file(std::filesystem::path const& dir, std::string const& name, std::size_t users);

/// One `velt-gdpr export` run and what the server saw of it.
struct cli_run {
  child_result proc;
  int exit_code = -1;  ///< -1: killed or timed out
  std::size_t users = 0;
  std::uint64_t requests = 0, pages = 0, connections = 0;
  std::uint64_t refused_rate = 0, refused_quota = 0, refused_concurrency = 0, refused_outage = 0;
  std::uint64_t users_ok = 0, users_failed = 0, users_skipped = 0;
  std::size_t files = 0;   ///< user files in DIR/users after the run
  std::string first_failure;  ///< the report's first failure message, if any
  boost::json::object users_report;  ///< report.json's "users" object as the CLI wrote it
  std::string note, stderr_tail;

  /// Requests refused by the rate limit, the quota and the concurrency limit, and their share
  /// of the API requests the server read. (Outage refusals are apart: in refuse mode they
  /// also count connections reset at accept, which are not requests.)
  std::uint64_t refused() const { return refused_rate + refused_quota + refused_concurrency; }
  double refused_share() const { return requests ? static_cast<double>(refused()) / static_cast<double>(requests) : 0; }
  double goodput() const { return proc.wall_s > 0 ? static_cast<double>(pages) / proc.wall_s : 0; }
  /// Ended as the CLI documents (0: all done, 3: some users failed or not done).
  bool expected_exit() const { return exit_code == 0 || exit_code == 3; }
  boost::json::object to_json() const;
};

/// Runs `velt-gdpr export --progress never` with nothing else but the connection, the users
/// and the output directory (all throughput settings at their defaults), plus `extra`.
/// `out_dir` is kept (a rerun resumes from it).
cli_run run_cli(limits_settings const& s, mock_process& mock, std::filesystem::path const& users_file,
                std::size_t users, std::filesystem::path const& out_dir, std::string const& tag,
                std::vector<std::string> const& extra, std::chrono::seconds limit);

std::string fmt_num(double v, int decimals = 2);
std::string exit_text(cli_run const& r);

}  // namespace velt::bench
