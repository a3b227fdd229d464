// SPDX-License-Identifier: BSL-1.0
#include "core/progress.hpp"

#include "core/time_format.hpp"

#include <fmt/format.h>

namespace velt::gdpr {

std::optional<std::chrono::seconds> estimate_remaining(progress_snapshot const& s) {
  if (!s.total || s.elapsed.count() <= 0) return std::nullopt;
  std::uint64_t const worked = s.ok + s.failed;
  if (worked == 0) return std::nullopt;
  std::uint64_t const left = *s.total > s.done() ? *s.total - s.done() : 0;
  if (left == 0) return std::nullopt;  // done: nothing to estimate
  double const per_user = static_cast<double>(s.elapsed.count()) / 1000.0 / static_cast<double>(worked);
  return std::chrono::seconds(static_cast<long long>(per_user * static_cast<double>(left) + 0.5));
}

std::string format_progress(progress_snapshot const& s) {
  std::string line = "users " + std::to_string(s.done());
  if (s.total) line += "/" + std::to_string(*s.total);
  if (s.failed > 0 || s.skipped > 0) {
    line += " (";
    if (s.failed > 0) line += std::to_string(s.failed) + " failed";
    if (s.failed > 0 && s.skipped > 0) line += ", ";
    if (s.skipped > 0) line += std::to_string(s.skipped) + " skipped";
    line += ")";
  }
  line += " | " + format_count(s.pages) + " pages | " + format_count(s.items) + " items | " +
          format_bytes(s.bytes);
  double const secs = static_cast<double>(s.elapsed.count()) / 1000.0;
  if (secs > 0) line += fmt::format(" | {:.0f} pages/s", static_cast<double>(s.pages) / secs);
  if (s.retries > 0) line += " | " + format_count(s.retries) + (s.retries == 1 ? " retry" : " retries");
  if (s.rate) line += fmt::format(" | paced to {:.0f} req/s", *s.rate);
  switch (s.paused) {
    case progress_snapshot::pause::none: break;
    case progress_snapshot::pause::throttled:
      line += " | paused: throttled (the server asked to wait) for " + format_seconds(s.paused_for);
      break;
    case progress_snapshot::pause::outage:
      line += " | paused: server unavailable for " + format_seconds(s.paused_for);
      break;
  }
  if (auto eta = estimate_remaining(s)) line += " | ETA " + format_clock(*eta);
  return line;
}

}  // namespace velt::gdpr
