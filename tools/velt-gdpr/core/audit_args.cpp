// SPDX-License-Identifier: BSL-1.0
#include "core/audit_args.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace velt::gdpr {

namespace {

constexpr char const* redacted = "<redacted>";

std::string redact_proxy(std::string_view value) {
  std::string const text = value.find("://") == std::string_view::npos ? "http://" + std::string(value)
                                                                        : std::string(value);
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed || parsed->encoded_host().empty()) return redacted;
  boost::urls::url_view const u = *parsed;
  std::string port = u.has_port() && !u.port().empty() ? std::string(u.port()) : std::string("1080");
  return std::string(u.scheme()) + "://" + std::string(u.encoded_host()) + ":" + port;
}

std::string redact_request_field(std::string_view value) {
  auto const eq = value.find('=');
  if (eq == std::string_view::npos) return redacted;
  return std::string(value.substr(0, eq)) + "=" + redacted;
}

bool holds_secret(std::string_view arg, std::vector<std::string_view> const& secrets) {
  for (auto const s : secrets) {
    if (!s.empty() && arg.find(s) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

recorded_args redact_args(std::vector<std::string> const& argv, std::vector<std::string_view> const& secrets) {
  enum class pending { none, request_field, proxy, secret };
  recorded_args out;
  std::size_t bytes = 0;
  pending next = pending::none;
  for (std::string const& arg : argv) {
    std::string kept;
    pending const mine = next;
    next = pending::none;
    if (holds_secret(arg, secrets)) {
      kept = redacted;
    } else if (mine == pending::request_field) {
      kept = redact_request_field(arg);
    } else if (mine == pending::proxy) {
      kept = redact_proxy(arg);
    } else if (mine == pending::secret) {
      kept = redacted;
    } else if (arg == "--request-field") {
      kept = arg;
      next = pending::request_field;
    } else if (arg == "--proxy") {
      kept = arg;
      next = pending::proxy;
    } else if (arg == "--api-key" || arg == "--auth-token") {
      kept = arg;
      next = pending::secret;
    } else if (arg.starts_with("--request-field=")) {
      kept = "--request-field=" + redact_request_field(std::string_view(arg).substr(16));
    } else if (arg.starts_with("--proxy=")) {
      kept = "--proxy=" + redact_proxy(std::string_view(arg).substr(8));
    } else if (arg.starts_with("--api-key=") || arg.starts_with("--auth-token=")) {
      kept = arg.substr(0, arg.find('=') + 1) + redacted;
    } else {
      kept = arg;
    }
    if (out.omitted > 0 || bytes + kept.size() > max_recorded_args_bytes) {
      ++out.omitted;
      continue;
    }
    bytes += kept.size();
    out.args.push_back(std::move(kept));
  }
  return out;
}

std::string redact_base_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);  // a fragment too, unlike parse_absolute_uri
  if (!parsed) return redacted;
  boost::urls::url_view const u = *parsed;
  std::string out = std::string(u.scheme()) + "://" + std::string(u.encoded_host());
  if (u.has_port()) out += ":" + std::string(u.port());
  out += std::string(u.encoded_path());
  return out;
}

audit::run_info make_run_info(std::string command, std::string organization_id, std::string_view base_url,
                              std::optional<std::filesystem::path> dir, std::vector<std::string> const& argv,
                              std::vector<std::string_view> const& secrets) {
  audit::run_info info;
  info.command = std::move(command);
  info.organization_id = std::move(organization_id);
  info.base_url = redact_base_url(base_url);
  info.dir = std::move(dir);
  recorded_args args = redact_args(argv, secrets);
  info.args = std::move(args.args);
  info.args_omitted = args.omitted;
  return info;
}

}  // namespace velt::gdpr
