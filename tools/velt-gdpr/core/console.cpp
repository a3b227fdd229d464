// SPDX-License-Identifier: BSL-1.0
#include "core/console.hpp"

#include <unistd.h>

#include <cerrno>

namespace velt::gdpr {

std::optional<progress_mode> parse_progress_mode(std::string_view text) {
  if (text == "auto") return progress_mode::automatic;
  if (text == "always") return progress_mode::always;
  if (text == "never") return progress_mode::never;
  return std::nullopt;
}

bool parse_log_level(std::string_view text, std::optional<velt::log_level>& out) {
  using L = velt::log_level;
  if (text == "debug") out = L::debug;
  else if (text == "info") out = L::info;
  else if (text == "warning") out = L::warning;
  else if (text == "error") out = L::error;
  else if (text == "off") out.reset();
  else return false;
  return true;
}

console::console(progress_mode mode, std::optional<velt::log_level> min_level, int fd)
    : mode_(mode), min_level_(min_level), fd_(fd) {
  redraw_ = mode == progress_mode::always || (mode == progress_mode::automatic && ::isatty(fd) == 1);
}

void console::write_raw(std::string_view text) {
  while (!text.empty()) {
    ssize_t const n = ::write(fd_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr closed: nothing more to say
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void console::print_line(std::string_view text) {
  std::string out;
  if (!shown_.empty()) out += "\r\x1b[K";
  out += text;
  out += '\n';
  if (!shown_.empty()) out += shown_;
  write_raw(out);
}

void console::progress(std::string_view line) {
  if (mode_ == progress_mode::never) return;
  std::lock_guard lock(mutex_);
  if (redraw_) {
    shown_ = line;
    std::string out = "\r";
    out += line;
    out += "\x1b[K";
    write_raw(out);
  } else {
    std::string out(line);
    out += '\n';
    write_raw(out);
  }
}

void console::end_progress() {
  std::lock_guard lock(mutex_);
  if (redraw_ && !shown_.empty()) {
    shown_.clear();
    write_raw("\n");
  }
}

void console::log(velt::log_level level, std::string_view message) {
  if (!logs(level)) return;
  char const* name = level == velt::log_level::debug   ? "debug"
                     : level == velt::log_level::info  ? "info"
                     : level == velt::log_level::warning ? "warning"
                                                         : "error";
  std::string line = "velt-gdpr: ";
  line += name;
  line += ": ";
  line += message;
  std::lock_guard lock(mutex_);
  print_line(line);
}

void console::error(std::string_view message) {
  std::string line = "velt-gdpr: error: ";
  line += message;
  std::lock_guard lock(mutex_);
  print_line(line);
}

void console::note(std::string_view message) {
  std::lock_guard lock(mutex_);
  print_line(message);
}

}  // namespace velt::gdpr
