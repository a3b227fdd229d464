// SPDX-License-Identifier: BSL-1.0
// velt-gdpr: batch export and verified erasure of users' data with Velt's GDPR REST API.
//
//   velt-gdpr export --org ORG (--user ID)... [--users-file FILE] --out DIR [options]
//   velt-gdpr erase --org ORG (--user ID)... [--users-file FILE] [--wait] [--verify] ...
//   velt-gdpr erase-status JOB_ID...
//   velt-gdpr demo [--users N] [--out DIR]
//   velt-gdpr keygen --out FILE
//   velt-gdpr audit verify FILE [--public-key F]... [--head N:HEX]
//   velt-gdpr receipt verify FILE --public-key F [--signature S]
//
// Exit status: 0 success; 1 checked and not good (audit verify, receipt verify only); 2 usage
// or configuration error (nothing done); 3 at least one user, batch or job failed (the
// others were done); 130 / 143 after SIGINT / SIGTERM.
#include "commands/commands.hpp"
#include "core/exit_code.hpp"

#include <velt/version.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  namespace cli = velt::gdpr::cli;
  namespace exit_code = velt::gdpr::exit_code;
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout or socket is an error code, not a death

  CLI::App app{
      "velt-gdpr: export and erase users' data with Velt's GDPR REST API.\n"
      "Credentials come from VELT_API_KEY and VELT_AUTH_TOKEN or from --api-key-file and "
      "--auth-token-file, never from the command line.\n"
      "Exit status: 0 success, 1 checked and not good (audit verify, receipt verify), 2 usage or "
      "configuration error (nothing done), 3 some users, "
      "batches or jobs failed (the others were done), 130/143 interrupted by SIGINT/SIGTERM.",
      "velt-gdpr"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("velt-gdpr ") + velt::version());
  std::vector<std::string> top_level_secrets;
  cli::add_secret_traps(app, top_level_secrets);

  cli::export_cli export_opts;
  cli::erase_cli erase_opts;
  cli::erase_status_cli status_opts;
  cli::demo_cli demo_opts;
  cli::keygen_cli keygen_opts;
  cli::audit_verify_cli audit_verify_opts;
  cli::receipt_verify_cli receipt_verify_opts;
  CLI::App* export_cmd = cli::add_export_command(app, export_opts);
  CLI::App* erase_cmd = cli::add_erase_command(app, erase_opts);
  CLI::App* status_cmd = cli::add_erase_status_command(app, status_opts);
  CLI::App* demo_cmd = cli::add_demo_command(app, demo_opts);
  CLI::App* keygen_cmd = cli::add_keygen_command(app, keygen_opts);
  CLI::App* audit_verify_cmd = cli::add_audit_verify_command(app, audit_verify_opts);
  CLI::App* receipt_verify_cmd = cli::add_receipt_verify_command(app, receipt_verify_opts);

  try {
    app.parse(argc, argv);
  } catch (CLI::ExtrasError const& e) {
    // CLI11 would quote every unexpected argument, and one may be a mistyped secret
    // ("--apikey=..."): name the options only, never their values.
    std::string what = e.what();
    std::string shown;
    std::size_t hidden = 0;
    std::istringstream words(what.substr(what.rfind(": ") == std::string::npos ? 0 : what.rfind(": ") + 2));
    for (std::string w; words >> w;) {
      if (w.size() > 1 && w[0] == '-') {
        shown += (shown.empty() ? "" : " ") + w.substr(0, w.find('='));
      } else {
        ++hidden;
      }
    }
    std::fprintf(stderr, "velt-gdpr: error: unexpected argument(s)%s%s%s; run with --help\n",
                 shown.empty() ? "" : ": ", shown.c_str(),
                 hidden ? " (and values, not repeated here)" : "");
    return exit_code::usage;
  } catch (CLI::ParseError const& e) {
    int const rc = app.exit(e);
    return rc == 0 ? exit_code::ok : exit_code::usage;
  }
  try {
    cli::check_secret_traps(top_level_secrets);
  } catch (cli::usage_error const& e) {
    std::fprintf(stderr, "velt-gdpr: error: %s\n", e.what());
    return exit_code::usage;
  }

  // What run_start records (redacted there): the arguments after the program name.
  std::vector<std::string> const args(argv + 1, argv + argc);
  export_opts.argv = args;
  erase_opts.argv = args;
  demo_opts.argv = args;
  try {
    if (export_cmd->parsed()) return cli::run_export_command(export_opts);
    if (erase_cmd->parsed()) return cli::run_erase_command(erase_opts);
    if (status_cmd->parsed()) return cli::run_erase_status_command(status_opts);
    if (demo_cmd->parsed()) return cli::run_demo_command(demo_opts);
    if (keygen_cmd->parsed()) return cli::run_keygen_command(keygen_opts);
    if (audit_verify_cmd->parsed()) return cli::run_audit_verify_command(audit_verify_opts);
    if (receipt_verify_cmd->parsed()) return cli::run_receipt_verify_command(receipt_verify_opts);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "velt-gdpr: error: %s\n", e.what());
    return exit_code::failures;
  }
  return exit_code::usage;
}
