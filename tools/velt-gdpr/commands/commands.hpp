// SPDX-License-Identifier: BSL-1.0
// commands.hpp: velt-gdpr's subcommands. Each registers its options on a CLI11 subcommand
// and runs with the parsed values, returning the exit status (core/exit_code.hpp).
#pragma once

#include "commands/common_options.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace velt::gdpr::cli {

// ---- export -----------------------------------------------------------------------------
struct export_cli {
  connection_cli conn;
  users_cli users;
  output_cli output;
  std::string out_dir;
  std::size_t concurrency = 64;
  std::optional<double> rate;
  std::string max_stall = "15m";
  double checkpoint_seconds = 5;
  std::string exported_at;
  unsigned threads = 1;
  std::vector<std::string> request_fields;  ///< --request-field KEY=JSON, as given
  audit_cli audit;
  std::vector<std::string> argv;  ///< the arguments after the program name (run_start)
};
CLI::App* add_export_command(CLI::App& app, export_cli& o);
int run_export_command(export_cli const& o);

// ---- erase, erase-status ------------------------------------------------------------------
struct erase_cli {
  connection_cli conn;
  users_cli users;
  output_cli output;
  bool wait = false;
  bool verify = false;
  double poll_interval = 5;
  double timeout = 24 * 3600;
  std::string max_stall = "15m";
  std::size_t batch_size = 100;
  std::size_t concurrency = 16;
  std::vector<std::string> request_fields;  ///< --request-field KEY=JSON (for --verify)
  audit_cli audit;
  std::string receipts_dir;       ///< --receipts DIR
  std::vector<std::string> argv;  ///< the arguments after the program name (run_start)
};
CLI::App* add_erase_command(CLI::App& app, erase_cli& o);
int run_erase_command(erase_cli const& o);

struct erase_status_cli {
  connection_cli conn;
  std::vector<std::string> job_ids;
};
CLI::App* add_erase_status_command(CLI::App& app, erase_status_cli& o);
int run_erase_status_command(erase_status_cli const& o);

// ---- demo -----------------------------------------------------------------------------------
struct demo_cli {
  std::size_t users = 1000;
  std::string out_dir;
  std::size_t concurrency = 64;
  std::string progress = "auto";
  std::uint64_t seed = 1;
  unsigned server_threads = 1;
  unsigned threads = 1;
  std::vector<std::string> argv;  ///< the arguments after the program name (run_start)
};
CLI::App* add_demo_command(CLI::App& app, demo_cli& o);
int run_demo_command(demo_cli const& o);

// ---- keygen, audit verify, receipt verify ----------------------------------------------------
struct keygen_cli {
  std::string out;  ///< --out FILE: FILE (0600) and FILE.pub
};
CLI::App* add_keygen_command(CLI::App& app, keygen_cli& o);
int run_keygen_command(keygen_cli const& o);

struct audit_verify_cli {
  std::string file;
  std::vector<std::string> public_keys;  ///< --public-key F (repeatable)
  std::string head;                      ///< --head N:HEX
};
/// `audit verify`: registers the `audit` command and its `verify` subcommand.
CLI::App* add_audit_verify_command(CLI::App& app, audit_verify_cli& o);
int run_audit_verify_command(audit_verify_cli const& o);

struct receipt_verify_cli {
  std::string file;
  std::string public_key;  ///< --public-key F
  std::string signature;   ///< --signature S (default FILE.sig)
};
/// `receipt verify`: registers the `receipt` command and its `verify` subcommand.
CLI::App* add_receipt_verify_command(CLI::App& app, receipt_verify_cli& o);
int run_receipt_verify_command(receipt_verify_cli const& o);

}  // namespace velt::gdpr::cli
