// SPDX-License-Identifier: BSL-1.0
#include "core/time_format.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <ctime>

namespace velt::gdpr {

std::string format_utc(std::chrono::system_clock::time_point t) {
  std::time_t const secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view s) {
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z') {
    return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto const [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && end == s.data() + pos + len;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, se)) {
    return std::nullopt;
  }
  std::chrono::year_month_day const ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{se};
}

std::string format_clock(std::chrono::seconds d) {
  auto s = d.count();
  if (s < 0) s = 0;
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

namespace {
std::string three_digits(double v, char const* suffix) {
  if (v < 10) return fmt::format("{:.2f}{}", v, suffix);
  if (v < 100) return fmt::format("{:.1f}{}", v, suffix);
  return fmt::format("{:.0f}{}", v, suffix);
}
}  // namespace

std::string format_count(std::uint64_t n) {
  if (n < 1000) return std::to_string(n);
  auto const v = static_cast<double>(n);
  if (n < 1'000'000) return three_digits(v / 1e3, "k");
  if (n < 1'000'000'000) return three_digits(v / 1e6, "M");
  return three_digits(v / 1e9, "G");
}

std::string format_bytes(std::uint64_t n) {
  if (n < 1000) return fmt::format("{} B", n);
  auto const v = static_cast<double>(n);
  if (n < 1'000'000) return three_digits(v / 1e3, " kB");
  if (n < 1'000'000'000) return three_digits(v / 1e6, " MB");
  return three_digits(v / 1e9, " GB");
}

std::string format_seconds(std::chrono::milliseconds d) {
  double const s = static_cast<double>(d.count()) / 1000.0;
  if (s < 60) return fmt::format("{:.1f} s", s);
  auto const whole = static_cast<long long>(s);
  if (whole < 3600) return fmt::format("{} min {} s", whole / 60, whole % 60);
  return fmt::format("{} h {} min", whole / 3600, (whole / 60) % 60);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view number = text;
  double scale = 1000;  // bare: seconds
  for (auto [suffix, ms] : {std::pair<std::string_view, double>{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}) {
    if (number.ends_with(suffix)) {
      number.remove_suffix(suffix.size());
      scale = ms;
      break;
    }
  }
  if (number.empty() || number.size() > 32) return std::nullopt;
  std::string const digits(number);
  char* end = nullptr;
  double const value = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(value) || value <= 0 ||
      !std::isdigit(static_cast<unsigned char>(digits.front()))) {
    return std::nullopt;
  }
  double const ms = value * scale;
  if (ms < 1 || ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms + 0.5));
}

}  // namespace velt::gdpr
