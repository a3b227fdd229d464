// SPDX-License-Identifier: BSL-1.0
// console.hpp: everything velt-gdpr writes to stderr: one progress line (redrawn in place
// on a terminal, plain lines otherwise), log lines and errors, without tearing each other.
#pragma once

#include <velt/client_options.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace velt::gdpr {

/// `--progress`.
enum class progress_mode {
  automatic,  ///< redrawn line when stderr is a terminal, plain lines every few seconds otherwise
  always,     ///< redrawn line, terminal or not
  never,      ///< no progress (errors, warnings and the final summary still appear)
};

/// Parses "auto" / "always" / "never".
std::optional<progress_mode> parse_progress_mode(std::string_view text);
/// Parses "debug" / "info" / "warning" / "error" / "off" into `out` (off: std::nullopt).
/// False for anything else.
bool parse_log_level(std::string_view text, std::optional<velt::log_level>& out);

/// stderr, shared by every thread of a run. Thread-safe.
class console {
 public:
  /// `min_level`: log lines below it are dropped; std::nullopt drops all log lines.
  console(progress_mode mode, std::optional<velt::log_level> min_level, int fd = 2);

  /// Whether progress is drawn in place (a terminal, or `always`).
  bool redraws() const noexcept { return redraw_; }
  /// Whether progress is shown at all.
  bool shows_progress() const noexcept { return mode_ != progress_mode::never; }

  /// Shows a progress line: redrawn in place, or printed as a line of its own.
  void progress(std::string_view line);
  /// Clears the in-place progress line (before the final summary).
  void end_progress();

  /// A log line ("velt-gdpr: warning: ...") if `level` passes the threshold.
  void log(velt::log_level level, std::string_view message);
  /// Always printed: "velt-gdpr: error: ...".
  void error(std::string_view message);
  /// Always printed as is (a line is added).
  void note(std::string_view message);

  bool logs(velt::log_level level) const noexcept { return min_level_ && level >= *min_level_; }

 private:
  void write_raw(std::string_view text);
  void print_line(std::string_view text);

  std::mutex mutex_;
  progress_mode mode_;
  std::optional<velt::log_level> min_level_;
  int fd_;
  bool redraw_ = false;
  std::string shown_;  // the progress line currently on screen (redraw mode)
};

}  // namespace velt::gdpr
