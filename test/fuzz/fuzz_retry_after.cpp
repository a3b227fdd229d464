// SPDX-License-Identifier: BSL-1.0
// Fuzzes velt::parse_retry_after.
//
// Input: [now: 4 bytes, big-endian seconds since 1970][the header value: the rest]
#include "fuzz_support.hpp"

#include <velt/retry_after.hpp>

#include <chrono>
#include <string>

namespace {
using namespace std::chrono;
using velt::fuzz::check;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int year_of(system_clock::time_point t) {
  return static_cast<int>(year_month_day(floor<days>(t)).year());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  auto const now = system_clock::time_point(seconds(in.u32()));
  std::string_view const value = in.rest();

  auto const r = velt::parse_retry_after(value, now);
  auto const again = velt::parse_retry_after(value, now);
  check(r == again, "parse_retry_after is not deterministic");
  if (r) check(r->count() >= 0, "a negative delay");

  // Surrounding whitespace (SP, HTAB) is ignored.
  std::string padded = " \t";
  padded.append(value);
  padded += "\t ";
  check(velt::parse_retry_after(padded, now) == r, "surrounding whitespace changed the result");

  std::string_view const t = trim(value);
  if (all_digits(t)) {
    // delta-seconds: the number itself, saturated at 2^31.
    std::int64_t expected = 0;
    for (char c : t) expected = std::min<std::int64_t>(expected * 10 + (c - '0'), std::int64_t{1} << 31);
    check(r && r->count() == expected, "delta-seconds parsed to a different number");
    check(velt::parse_retry_after(value, now + hours(24 * 400)) == r,
          "delta-seconds depend on the clock");
  } else if (r) {
    // An HTTP-date: one second later, the delay is one second shorter (or still zero).
    // (Two-digit RFC 850 years depend on the current year: stay within one year.)
    auto const later = now + seconds(1);
    if (year_of(later) == year_of(now)) {
      auto const r2 = velt::parse_retry_after(value, later);
      check(r2.has_value(), "a date stopped parsing one second later");
      check(r2->count() == std::max<std::int64_t>(0, r->count() - 1),
            "a date's delay did not move with the clock");
    }
    check(value.find_first_of("0123456789") != std::string_view::npos, "a date without digits");
  }
  return 0;
}
