// SPDX-License-Identifier: BSL-1.0
#include "commands/common_options.hpp"

#include "core/credentials.hpp"
#include "core/request_fields.hpp"
#include "core/shard.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace velt::gdpr::cli {

void add_connection_options(CLI::App& app, connection_cli& o) {
  app.add_option("--base-url", o.base_url, "API base URL (scheme://host[:port])")
      ->capture_default_str()->group("Connection");
  app.add_option("--ca-file", o.ca_file,
                 "PEM file of CA certificates to trust instead of the system store")
      ->group("Connection");
  auto* proxy = app.add_option("--proxy", o.proxy,
                               "HTTP proxy to reach the API through (a CONNECT tunnel): "
                               "http://[user@]host[:port] (port 1080 when none). Default: "
                               "https_proxy, else HTTPS_PROXY, honouring no_proxy / NO_PROXY. A "
                               "proxy password belongs in HTTPS_PROXY, never on the command line")
                    ->group("Connection");
  app.add_flag("--no-proxy", o.no_proxy, "Connect directly, ignoring HTTPS_PROXY and https_proxy")
      ->excludes(proxy)->group("Connection");
  app.add_option("--api-key-file", o.api_key_file,
                 "File holding the API key (default: $VELT_API_KEY)")
      ->group("Connection");
  app.add_option("--auth-token-file", o.auth_token_file,
                 "File holding the auth token (default: $VELT_AUTH_TOKEN)")
      ->group("Connection");
  app.add_option("--connections", o.connections,
                 "HTTPS connections in the pool (default: the concurrency)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))->group("Connection");
  app.add_option("--max-attempts", o.max_attempts,
                 "Attempts per request, the first included (1: no retries)")
      ->capture_default_str()->check(CLI::Range(1u, 100u))->group("Connection");
  app.add_option("--log-level", o.log_level, "Log lines on stderr: debug, info, warning, error, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warning", "error", "off"}))->group("Output");
  add_secret_traps(app, o.secret_on_argv);
}

void add_users_options(CLI::App& app, users_cli& o) {
  app.add_option("--org", o.org, "Organization id")->required()->group("Users");
  app.add_option("--user", o.users, "A user id (repeatable)")->group("Users");
  app.add_option("--users-file", o.users_file,
                 "File with one user id per line (- for stdin); blank lines and lines starting "
                 "with # are ignored, whitespace around ids trimmed, duplicates processed once")
      ->group("Users");
  app.add_option("--shard", o.shard,
                 "Only the users of shard K of N (0 <= K < N): FNV-1a 64 of the id mod N == K")
      ->group("Users");
}

void add_request_field_option(CLI::App& app, std::vector<std::string>& specs, std::string const& what) {
  app.add_option("--request-field", specs,
                 "KEY=JSON: one more member of the data object of " + what +
                     " (repeatable, each KEY once: a repeated KEY is refused), for fields newer Velt "
                     "SDKs send, passed through as given: veltAllOrganizations=true, "
                     "veltUserIds='[\"a\",\"b\"]', uniqueId='\"x\"'. JSON is any JSON value (a "
                     "string in double quotes); organizationId, userId and pageToken are refused "
                     "(velt-gdpr sets them)")
      ->allow_extra_args(false)  // one KEY=JSON per --request-field
      ->group("Requests");
}

boost::json::object make_request_fields(std::vector<std::string> const& specs) {
  try {
    return parse_request_fields(specs);
  } catch (request_field_error const& e) {
    throw usage_error(e.what());
  }
}

void add_audit_options(CLI::App& app, audit_cli& o, std::string const& log_help) {
  app.add_option("--audit-log", o.log,
                 "Append-only, hash-chained record of the run, one JSON line per event (mode 0600; "
                 "several runs may share one; check it with `velt-gdpr audit verify`). " + log_help)
      ->group("Audit");
  app.add_option("--signing-key", o.signing_key,
                 "Ed25519 private key (PEM, from `velt-gdpr keygen`; not readable by group or others) "
                 "that signs the run's last audit line" +
                     std::string(app.get_name() == "erase" ? " and the --receipts" : ""))
      ->group("Audit");
}

void add_progress_option(CLI::App& app, output_cli& o) {
  app.add_option("--progress", o.progress,
                 "Progress on stderr: auto (redrawn on a terminal, a line every 5 s "
                 "otherwise, and one at the end), always (redrawn), never")
      ->capture_default_str()->check(CLI::IsMember({"auto", "always", "never"}))->group("Output");
}

void add_secret_traps(CLI::App& app, std::vector<std::string>& seen) {
  // The value is captured (so that CLI11 does not quote it in an error) and never printed.
  app.add_option_function<std::string>(
         "--api-key", [&seen](std::string const&) { seen.push_back("--api-key"); }, "")
      ->group("");
  app.add_option_function<std::string>(
         "--auth-token", [&seen](std::string const&) { seen.push_back("--auth-token"); }, "")
      ->group("");
}

void check_secret_traps(std::vector<std::string> const& seen) {
  if (seen.empty()) return;
  std::string const& opt = seen.front();
  bool const key = opt == "--api-key";
  throw usage_error(opt + " is not accepted: secrets on the command line are visible to every "
                    "user of the machine. Set " + (key ? "VELT_API_KEY" : "VELT_AUTH_TOKEN") +
                    " or pass " + (key ? "--api-key-file" : "--auth-token-file") + " FILE.");
}

void check_proxy_option(std::string const& url) {
  std::string const text = url.find("://") == std::string::npos ? "http://" + url : url;
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (url.empty() || !parsed) throw usage_error("--proxy: not a proxy URL; expected http://[user@]host[:port]");
  boost::urls::url_view const u = *parsed;
  if (u.has_password()) {
    throw usage_error("--proxy: the URL holds a password, and secrets on the command line are visible to "
                      "every user of the machine. Put the proxy URL with its credentials in HTTPS_PROXY "
                      "(or https_proxy) instead of --proxy.");
  }
  if (u.scheme_id() != boost::urls::scheme::http)
    throw usage_error("--proxy: only http:// proxies are supported (no https:// proxy, no SOCKS)");
  if (u.encoded_host().empty()) throw usage_error("--proxy: the URL has no host");
  if (u.has_port() && (u.port().empty() || u.port_number() == 0))
    throw usage_error("--proxy: the URL has an invalid port");
  if (!(u.encoded_path().empty() || u.encoded_path() == "/") || u.has_query() || u.has_fragment())
    throw usage_error("--proxy: the URL must not have a path, query or fragment");
}

velt::client_options make_client_options(connection_cli const& o, std::size_t default_connections) {
  check_secret_traps(o.secret_on_argv);
  if (o.proxy) check_proxy_option(*o.proxy);
  credentials creds;
  try {
    creds = load_credentials(o.api_key_file, o.auth_token_file);
  } catch (credentials_error const& e) {
    throw usage_error(e.what());
  }
  velt::client_options opts;
  opts.base_url = o.base_url;
  opts.ca_file = o.ca_file;
  if (o.no_proxy)
    opts.proxy = "";
  else if (o.proxy)
    opts.proxy = *o.proxy;  // else: from the environment (the client reads it)
  opts.api_key = std::move(creds.api_key);
  opts.auth_token = std::move(creds.auth_token);
  opts.max_connections = o.connections.value_or(default_connections);
  opts.retry.max_attempts = o.max_attempts;
  return opts;
}

users_options make_users_options(users_cli const& o) {
  if (o.users.empty() && o.users_file.empty()) {
    throw usage_error("no users: give --user ID (repeatable) and/or --users-file FILE");
  }
  for (auto const& u : o.users) {
    if (u.empty()) throw usage_error("--user: empty user id");
  }
  users_options u;
  u.ids = o.users;
  u.file = o.users_file;
  if (!o.shard.empty()) {
    try {
      u.shard = parse_shard(o.shard);
    } catch (std::invalid_argument const& e) {
      throw usage_error(e.what());
    }
  }
  return u;
}

console_settings make_console_settings(output_cli const& progress, connection_cli const& conn) {
  auto const mode = parse_progress_mode(progress.progress);
  console_settings cs;
  if (!mode) throw usage_error("--progress: expected auto, always or never");
  if (!parse_log_level(conn.log_level, cs.log_level)) {
    throw usage_error("--log-level: expected debug, info, warning, error or off");
  }
  cs.progress = *mode;
  return cs;
}

}  // namespace velt::gdpr::cli
