// SPDX-License-Identifier: BSL-1.0
// common_options.hpp: the options that several subcommands share, and turning them into
// the settings of the core library.
#pragma once

#include "core/console.hpp"
#include "core/users_source.hpp"

#include <velt/client_options.hpp>

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace velt::gdpr::cli {

/// Where the API is and how to talk to it.
struct connection_cli {
  std::string base_url = "https://api.velt.dev";
  std::string ca_file;
  std::string api_key_file;
  std::string auth_token_file;
  std::optional<std::size_t> connections;
  unsigned max_attempts = 6;
  std::string log_level = "warning";
  std::optional<std::string> proxy;  ///< --proxy URL; none: HTTPS_PROXY / https_proxy
  bool no_proxy = false;             ///< --no-proxy: connect directly, whatever the environment
  std::vector<std::string> secret_on_argv;  ///< --api-key / --auth-token given: refused
};
void add_connection_options(CLI::App& app, connection_cli& o);

/// Which users.
struct users_cli {
  std::string org;
  std::vector<std::string> users;
  std::string users_file;
  std::string shard;
};
void add_users_options(CLI::App& app, users_cli& o);

/// `--request-field KEY=JSON` (repeatable): more members of every Get All User Data
/// request. `what` says which requests those are, for the help text.
void add_request_field_option(CLI::App& app, std::vector<std::string>& specs, std::string const& what);
/// The `--request-field` values as one object (core/request_fields.hpp); throws usage_error
/// naming the flag and the offending value.
boost::json::object make_request_fields(std::vector<std::string> const& specs);

/// `--audit-log FILE` and `--signing-key FILE` (export, erase).
struct audit_cli {
  std::string log;          ///< --audit-log FILE
  std::string signing_key;  ///< --signing-key FILE
};
/// Adds the two options; `log_help` says what the log defaults to (or that it is required).
void add_audit_options(CLI::App& app, audit_cli& o, std::string const& log_help);

/// `--progress` and `--log-level` turned into a console.
struct output_cli {
  std::string progress = "auto";
};
void add_progress_option(CLI::App& app, output_cli& o);

/// A problem with the command line or the configuration (exit status 2). The message
/// never contains a secret.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Adds hidden `--api-key` / `--auth-token` options whose only job is to refuse a secret
/// given on the command line without echoing it (CLI11 would quote an unknown argument).
void add_secret_traps(CLI::App& app, std::vector<std::string>& seen);
/// Throws usage_error when a trap caught something.
void check_secret_traps(std::vector<std::string> const& seen);

/// Throws usage_error, naming `--proxy` and never quoting the URL, unless `url` is
/// `http://[user@]host[:port][/]` (or that without the scheme): no password (secrets never go
/// on the command line: HTTPS_PROXY can carry one), no https:// or SOCKS proxy.
void check_proxy_option(std::string const& url);

/// The client options: base URL, CA file, proxy, pool size, attempts, and the credentials
/// from the environment or the files (throws usage_error when missing). `log` not set.
velt::client_options make_client_options(connection_cli const& o, std::size_t default_connections);

/// The users: `--user` values, `--users-file`, `--shard` (throws usage_error when no user
/// is given or the shard is malformed).
users_options make_users_options(users_cli const& o);

/// What `--progress` and `--log-level` ask of the console.
struct console_settings {
  progress_mode progress = progress_mode::automatic;
  std::optional<velt::log_level> log_level;
};
/// Throws usage_error on bad values.
console_settings make_console_settings(output_cli const& progress, connection_cli const& conn);

}  // namespace velt::gdpr::cli
