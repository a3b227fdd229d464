// SPDX-License-Identifier: BSL-1.0
// chain_verifier: checks a log line by line without I/O, and names the first bad line in
// the words of design note §2.1.
#include "audit/line.hpp"

#include <velt/audit.hpp>

#include <algorithm>

namespace velt::audit {

namespace detail {
struct verifier_state {
  std::vector<public_key> keys;
  std::optional<line_ref> expected_head;
  bool expected_seen = false;
  log_summary summary;
  std::optional<problem> failure;
  std::uint64_t offset = 0;  // of the next line
  std::string prev_h = std::string(zero_hash);
};
}  // namespace detail

namespace {

std::string line_n(std::uint64_t n) { return "line " + std::to_string(n); }

}  // namespace

chain_verifier::chain_verifier(std::vector<public_key> keys, std::optional<line_ref> expected_head)
    : state_(std::make_unique<detail::verifier_state>()) {
  state_->keys = std::move(keys);
  state_->expected_head = std::move(expected_head);
}

chain_verifier::chain_verifier(chain_verifier&&) noexcept = default;
chain_verifier& chain_verifier::operator=(chain_verifier&&) noexcept = default;
chain_verifier::~chain_verifier() = default;

log_summary const& chain_verifier::summary() const noexcept { return state_->summary; }

std::optional<problem> chain_verifier::feed(std::string_view line) {
  auto& s = *state_;
  if (s.failure) return s.failure;
  std::uint64_t const n = s.summary.lines + 1;
  auto fail = [&](std::string what) {
    s.failure = problem{n, s.offset, std::move(what)};
    return s.failure;
  };
  if (line.size() > detail::max_line_bytes) return fail(line_n(n) + " is not an audit line: longer than 64 KiB");
  if (line.empty() || line.back() != '\n') {
    return fail(line_n(n) + " is incomplete (no newline): a write was cut; the next run cuts it off");
  }
  std::string_view const text = line.substr(0, line.size() - 1);
  if (text.find('\n') != std::string_view::npos) return fail(line_n(n) + " is not an audit line: holds a newline");

  auto checked = detail::check_line(text);
  if (!checked.line) {
    if (checked.fault == detail::line_fault::changed) {
      return fail(line_n(n) + " was changed: its content does not match its hash");
    }
    return fail(line_n(n) + " is not an audit line: " + checked.reason);
  }
  auto const& l = *checked.line;
  if (l.seq != n) {
    return fail(line_n(n) + " has sequence number " + std::to_string(l.seq) + ", expected " + std::to_string(n) +
                ": lines were deleted, inserted or reordered before it");
  }
  if (l.prev != s.prev_h) {
    if (n == 1) return fail("line 1 does not start a chain (its prev is not 64 zeros)");
    return fail(line_n(n) + " does not follow line " + std::to_string(n - 1) + " (prev mismatch)");
  }

  auto& sum = s.summary;
  if (l.event == "run_start") {
    ++sum.runs;
    sum.open_runs.push_back(open_run{l.run, n});
  } else if (l.event == "cut") {
    ++sum.cuts;
  } else if (l.event == "run_end") {
    std::erase_if(sum.open_runs, [&](open_run const& r) { return r.run == l.run; });
    if (l.sig) ++sum.signed_ends;
    if (!s.keys.empty()) {
      if (!l.sig) return fail(line_n(n) + ": run " + l.run + " ended unsigned");
      auto const key = std::find_if(s.keys.begin(), s.keys.end(),
                                    [&](public_key const& k) { return k.fingerprint() == *l.key_sha256; });
      if (key == s.keys.end()) {
        return fail(line_n(n) + ": signature of run " + l.run + " signed by key " + *l.key_sha256 +
                    ", not by the given key");
      }
      if (!key->verify(l.signed_message, *l.sig)) {
        return fail(line_n(n) + ": signature of run " + l.run + " does not verify");
      }
      ++sum.signatures_checked;
      sum.signed_through = n;
    }
  }
  if (s.expected_head && s.expected_head->seq == n) {
    s.expected_seen = true;
    if (s.expected_head->h != l.h) {
      return fail(line_n(n) + " is not " + s.expected_head->h + " (its h is " + l.h + ")");
    }
  }
  sum.lines = n;
  sum.head = line_ref{n, l.h};
  s.prev_h = l.h;
  s.offset += line.size();
  return std::nullopt;
}

std::optional<problem> chain_verifier::finish() {
  auto& s = *state_;
  if (s.failure) return s.failure;
  if (s.expected_head && !s.expected_seen) {
    s.failure = problem{s.expected_head->seq, s.offset,
                        line_n(s.expected_head->seq) + " missing: the log ends at line " +
                            std::to_string(s.summary.lines) + " (lines were cut off its end)"};
  }
  return s.failure;
}

}  // namespace velt::audit
