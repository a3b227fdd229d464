// SPDX-License-Identifier: BSL-1.0
// audit_args.hpp: the command line as the audit log's `run_start` records it ("args"),
// without anything that could identify a person or let someone in. Sans-I/O.
#pragma once

#include <velt/audit.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// `run_start`'s "args" and how many arguments were left out to keep it short.
struct recorded_args {
  std::vector<std::string> args;
  std::size_t omitted = 0;  ///< "argsOmitted": arguments after the cut
};

/// Most bytes of arguments `redact_args` keeps (the rest are counted in `omitted`).
inline constexpr std::size_t max_recorded_args_bytes = 32 * 1024;

/// The arguments after the program name, as given, except:
/// - the value of `--request-field KEY=JSON` (or `--request-field=KEY=JSON`) becomes
///   `KEY=<redacted>` (values such as `uniqueId` can identify people);
/// - the value of `--proxy URL` becomes `http://host:port` (no user name; port 1080 when
///   none was given), or `<redacted>` when it is not such a URL;
/// - the values of `--api-key` and `--auth-token` (refused anyway) become `<redacted>`;
/// - any argument containing one of `secrets` (the API key and auth token in use; empty
///   ones are ignored) becomes `<redacted>`.
/// Paths and the environment are not secrets and not touched (the environment is never
/// read). Arguments past `max_recorded_args_bytes` in total are left out and counted.
recorded_args redact_args(std::vector<std::string> const& argv_after_program,
                          std::vector<std::string_view> const& secrets);

/// `url` reduced to `scheme://host[:port][/path]`: no user information, query or fragment
/// (for `run_start`'s "baseUrl"). `<redacted>` when it does not parse as a URL.
std::string redact_base_url(std::string_view url);

/// `run_start`'s facts for a command: `args` redacted from `argv_after_program` with
/// `secrets`, `baseUrl` through `redact_base_url`, `dir` when given.
audit::run_info make_run_info(std::string command, std::string organization_id, std::string_view base_url,
                              std::optional<std::filesystem::path> dir,
                              std::vector<std::string> const& argv_after_program,
                              std::vector<std::string_view> const& secrets);

}  // namespace velt::gdpr
