// SPDX-License-Identifier: BSL-1.0
// Retry-After parsing (RFC 9110 §10.2.3): delta-seconds or an HTTP-date in one of its three
// forms. Explicit parsing and a days-from-civil computation: no strptime, timegm, locale
// or global state.
#include <velt/retry_after.hpp>

#include <array>
#include <cstdint>

namespace velt {
namespace {

using namespace std::chrono;

// RFC 9111 §1.2.2: delta-seconds that overflow are taken as 2^31.
constexpr std::int64_t max_delta_seconds = std::int64_t{1} << 31;

constexpr std::array<std::string_view, 7> short_day_names{"Mon", "Tue", "Wed", "Thu",
                                                          "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  std::int64_t const era = (y >= 0 ? y : y - 399) / 400;
  auto const yoe = static_cast<unsigned>(y - era * 400);                     // [0, 399]
  unsigned const doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;      // [0, 365]
  unsigned const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool is_leap(std::int64_t y) noexcept {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// The civil year of a time point (for the RFC 850 two-digit-year rule).
std::int64_t year_of(system_clock::time_point tp) noexcept {
  auto const days = floor<std::chrono::days>(tp).time_since_epoch().count();
  // Inverse of days_from_civil, year part only (civil_from_days).
  std::int64_t const z = days + 719468;
  std::int64_t const era = (z >= 0 ? z : z - 146096) / 146097;
  auto const doe = static_cast<unsigned>(z - era * 146097);
  unsigned const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned const mp = (5 * doy + 2) / 153;
  return static_cast<std::int64_t>(yoe) + era * 400 + (mp >= 10 ? 1 : 0);
}

// A tiny cursor over the header value; every consume_* either matches and advances or
// fails and leaves the input unusable (the caller gives up).
class cursor {
 public:
  explicit cursor(std::string_view s) noexcept : s_(s) {}

  bool done() const noexcept { return s_.empty(); }

  bool literal(std::string_view lit) noexcept {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }

  // Exactly `n` digits.
  bool digits(std::size_t n, unsigned& out) noexcept {
    if (s_.size() < n) return false;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_digit(s_[i])) return false;
      v = v * 10 + static_cast<unsigned>(s_[i] - '0');
    }
    s_.remove_prefix(n);
    out = v;
    return true;
  }

  // One of `names`; returns its index.
  template <std::size_t N>
  bool name(std::array<std::string_view, N> const& names, unsigned& index) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<unsigned>(i);
        return true;
      }
    }
    return false;
  }

  // time-of-day = hour ":" minute ":" second
  bool time_of_day(unsigned& h, unsigned& m, unsigned& s) noexcept {
    return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, s);
  }

 private:
  std::string_view s_;
};

struct civil_time {
  std::int64_t year = 0;
  unsigned month = 0;  // 1..12
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
};

std::optional<sys_seconds> to_time_point(civil_time const& t) noexcept {
  if (t.month < 1 || t.month > 12) return std::nullopt;
  if (t.day < 1 || t.day > days_in_month(t.year, t.month)) return std::nullopt;
  // RFC 9110 allows second 60 (a leap second); it is taken as the next minute's 0.
  if (t.hour > 23 || t.minute > 59 || t.second > 60) return std::nullopt;
  std::int64_t const secs = days_from_civil(t.year, t.month, t.day) * 86400 +
                            std::int64_t{t.hour} * 3600 + std::int64_t{t.minute} * 60 +
                            std::int64_t{t.second};
  return sys_seconds{seconds{secs}};
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<civil_time> parse_imf_fixdate(std::string_view s) noexcept {
  cursor c(s);
  civil_time t;
  unsigned ignored = 0, day = 0, month = 0, year = 0;
  if (!(c.name(short_day_names, ignored) && c.literal(", ") && c.digits(2, day) &&
        c.literal(" ") && c.name(month_names, month) && c.literal(" ") && c.digits(4, year) &&
        c.literal(" ") && c.time_of_day(t.hour, t.minute, t.second) && c.literal(" GMT") &&
        c.done()))
    return std::nullopt;
  t.year = year;
  t.month = month + 1;
  t.day = day;
  return t;
}

// rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<civil_time> parse_rfc850(std::string_view s, std::int64_t current_year) noexcept {
  cursor c(s);
  civil_time t;
  unsigned ignored = 0, day = 0, month = 0, yy = 0;
  if (!(c.name(long_day_names, ignored) && c.literal(", ") && c.digits(2, day) &&
        c.literal("-") && c.name(month_names, month) && c.literal("-") && c.digits(2, yy) &&
        c.literal(" ") && c.time_of_day(t.hour, t.minute, t.second) && c.literal(" GMT") &&
        c.done()))
    return std::nullopt;
  // RFC 9110 §5.6.7: a year that appears more than 50 years in the future is the most
  // recent past year with the same last two digits.
  std::int64_t const cycle = ((current_year % 100) - yy + 100) % 100;
  std::int64_t year = current_year - cycle;  // latest year <= current_year ending in yy
  if (year + 100 <= current_year + 50) year += 100;
  t.year = year;
  t.month = month + 1;
  t.day = day;
  return t;
}

// asctime-date: "Sun Nov  6 08:49:37 1994" (day as 2DIGIT or SP DIGIT)
std::optional<civil_time> parse_asctime(std::string_view s) noexcept {
  cursor c(s);
  civil_time t;
  unsigned ignored = 0, day = 0, month = 0, year = 0;
  if (!(c.name(short_day_names, ignored) && c.literal(" ") && c.name(month_names, month) &&
        c.literal(" ")))
    return std::nullopt;
  if (!(c.literal(" ") ? c.digits(1, day) : c.digits(2, day))) return std::nullopt;
  if (!(c.literal(" ") && c.time_of_day(t.hour, t.minute, t.second) && c.literal(" ") &&
        c.digits(4, year) && c.done()))
    return std::nullopt;
  t.year = year;
  t.month = month + 1;
  t.day = day;
  return t;
}

std::optional<seconds> parse_delta_seconds(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : s) {
    if (!is_digit(ch)) return std::nullopt;
    v = v * 10 + (ch - '0');
    if (v > max_delta_seconds) v = max_delta_seconds;  // saturate; keep scanning digits
  }
  return seconds{v};
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      system_clock::time_point now) {
  value = trim_ows(value);
  if (value.empty()) return std::nullopt;
  if (is_digit(value.front())) return parse_delta_seconds(value);

  std::optional<civil_time> civil = parse_imf_fixdate(value);
  if (!civil) civil = parse_rfc850(value, year_of(now));
  if (!civil) civil = parse_asctime(value);
  if (!civil) return std::nullopt;

  auto const when = to_time_point(*civil);
  if (!when) return std::nullopt;
  // Compare in whole seconds: a date up to year 9999 does not fit in the clock's
  // nanoseconds. `when` is whole seconds, so ceil(when - now) == when - floor(now).
  auto const now_s = floor<seconds>(now);
  if (*when <= now_s) return seconds{0};
  return *when - now_s;
}

}  // namespace velt
