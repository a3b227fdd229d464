// SPDX-License-Identifier: BSL-1.0
// velt-gdpr keygen / audit verify / receipt verify: the keys that sign audit logs and
// receipts, and checking both (design note §6, §7). The verify commands exit 0 when good,
// 1 when checked and not good (as cmp and `openssl pkeyutl -verify` do), 2 on usage errors
// and unreadable files.
#include "commands/commands.hpp"

#include "core/exit_code.hpp"

#include <velt/audit.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>

namespace velt::gdpr::cli {

namespace fs = std::filesystem;

namespace {

int usage(std::string const& what) {
  std::fprintf(stderr, "velt-gdpr: error: %s\n", what.c_str());
  return exit_code::usage;
}

/// "N:HEX": a line number and the 64 hex digits of its `h`.
std::optional<audit::line_ref> parse_head(std::string const& text) {
  auto const colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.size() - colon - 1 != 64) return std::nullopt;
  audit::line_ref head;
  for (std::size_t i = 0; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9' || head.seq > (UINT64_MAX - 9) / 10) return std::nullopt;
    head.seq = head.seq * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  head.h = text.substr(colon + 1);
  for (char const c : head.h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  if (head.seq == 0) return std::nullopt;
  return head;
}

std::string coverage(audit::log_summary const& s, bool keys_given) {
  std::string out = fmt::format("{} lines, {} runs, {} cuts; the chain is intact", s.lines, s.runs, s.cuts);
  if (!keys_given) {
    out += fmt::format("\n  signatures not checked (no --public-key): {} run ends carry one", s.signed_ends);
  } else {
    if (s.signed_through > 0) {
      out += fmt::format("\n  lines 1-{} covered by {} signatures", s.signed_through, s.signatures_checked);
    }
    if (s.signed_through < s.lines) {
      out += fmt::format("\n  lines {}-{} covered by the chain only", s.signed_through + 1, s.lines);
    }
  }
  for (auto const& r : s.open_runs) {
    out += fmt::format("\n  run {} (from line {}) has no end: killed, or still running", r.run, r.first_line);
  }
  if (s.head) out += fmt::format("\n  head: line {} h={}", s.head->seq, s.head->h);
  return out;
}

}  // namespace

CLI::App* add_keygen_command(CLI::App& app, keygen_cli& o) {
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Make an Ed25519 key pair for --signing-key: FILE (PKCS#8 PEM, mode 0600) and FILE.pub (public "
      "key, PEM, for --public-key and `openssl pkeyutl -verify`). Never replaces an existing file.");
  cmd->add_option("--out", o.out, "The private key file; the public key goes to FILE.pub")->required();
  return cmd;
}

int run_keygen_command(keygen_cli const& o) {
  fs::path const file = o.out;
  fs::path const pub = o.out + ".pub";
  std::error_code ec;
  if (fs::exists(file, ec) || fs::exists(pub, ec)) {
    return usage(fmt::format("--out: {} already exists; keys are never replaced (remove it first if you "
                             "mean to: runs signed with it can then no longer be told apart from forgeries)",
                             fs::exists(file, ec) ? file.string() : pub.string()));
  }
  try {
    auto const key = audit::signing_key::generate();
    key.save(file);
    std::printf("%s  sha256 %s\n", pub.c_str(), key.public_key().fingerprint().c_str());
  } catch (audit::error const& e) {
    return usage(std::string("keygen: ") + e.what());
  }
  return exit_code::ok;
}

CLI::App* add_audit_verify_command(CLI::App& app, audit_verify_cli& o) {
  CLI::App* audit_cmd = app.add_subcommand("audit", "Check an audit log");
  audit_cmd->require_subcommand(1);
  CLI::App* cmd = audit_cmd->add_subcommand(
      "verify",
      "Check an audit log's hash chain line by line and, with --public-key, the signature of every run's "
      "last line; name the first bad line. Exit 0 good, 1 not good, 2 usage error or unreadable file.");
  cmd->add_option("file", o.file, "The audit log")->required();
  cmd->add_option("--public-key", o.public_keys,
                  "Public key (FILE.pub of keygen) that must have signed every run's end (repeatable: key rotation)");
  cmd->add_option("--head", o.head,
                  "N:HEX, a head printed by an earlier run (summary, report.json \"audit\"): fail unless line N "
                  "is still there with that hash (catches lines cut off the end)");
  return cmd;
}

int run_audit_verify_command(audit_verify_cli const& o) {
  std::vector<audit::public_key> keys;
  for (auto const& f : o.public_keys) {
    try {
      keys.push_back(audit::public_key::load(f));
    } catch (audit::error const& e) {
      return usage(std::string("--public-key: ") + e.what());
    }
  }
  std::optional<audit::line_ref> head;
  if (!o.head.empty()) {
    head = parse_head(o.head);
    if (!head) return usage("--head: expected N:HEX (a line number and 64 lower-case hex digits)");
  }
  std::error_code ec;
  if (!fs::is_regular_file(o.file, ec)) return usage(o.file + ": not a readable file");
  audit::verdict v;
  try {
    v = audit::verify_log(o.file, std::move(keys), head);
  } catch (audit::error const& e) {
    return usage(e.what());
  }
  if (!v.good()) {
    std::printf("%s:%llu (byte %llu): %s\n", o.file.c_str(), static_cast<unsigned long long>(v.failure->line),
                static_cast<unsigned long long>(v.failure->offset), v.failure->what.c_str());
    return 1;
  }
  std::printf("%s: %s\n", o.file.c_str(), coverage(v.summary, !o.public_keys.empty()).c_str());
  return exit_code::ok;
}

CLI::App* add_receipt_verify_command(CLI::App& app, receipt_verify_cli& o) {
  CLI::App* receipt_cmd = app.add_subcommand("receipt", "Check an erasure receipt");
  receipt_cmd->require_subcommand(1);
  CLI::App* cmd = receipt_cmd->add_subcommand(
      "verify",
      "Check an erasure receipt (DIR/<id>.json of erase --receipts) and its signature FILE.sig. "
      "Exit 0 good, 1 not good, 2 usage error or unreadable file.");
  cmd->add_option("file", o.file, "The receipt (.json)")->required();
  cmd->add_option("--public-key", o.public_key, "The signer's public key (FILE.pub of keygen)")->required();
  cmd->add_option("--signature", o.signature, "The signature file (default: FILE.sig)");
  return cmd;
}

int run_receipt_verify_command(receipt_verify_cli const& o) {
  std::optional<audit::public_key> key;
  try {
    key = audit::public_key::load(o.public_key);
  } catch (audit::error const& e) {
    return usage(std::string("--public-key: ") + e.what());
  }
  audit::receipt_verdict v;
  try {
    std::optional<fs::path> sig;
    if (!o.signature.empty()) sig = o.signature;
    v = audit::verify_receipt_file(o.file, *key, sig);
  } catch (audit::error const& e) {
    return usage(e.what());
  }
  if (!v.good) {
    std::printf("%s: %s\n", o.file.c_str(), v.what.c_str());
    return 1;
  }
  std::printf("%s\n", v.what.c_str());
  return exit_code::ok;
}

}  // namespace velt::gdpr::cli
