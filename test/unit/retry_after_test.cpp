// SPDX-License-Identifier: BSL-1.0
// Retry-After: delta-seconds, the three HTTP-date forms, ranges, leap years, past dates.
#include <velt/retry_after.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono;
using velt::parse_retry_after;

// 1994-11-06 08:49:00 UTC, 37 s before the RFC's example date.
sys_seconds const rfc_now = sys_days{year{1994} / November / 6} + hours{8} + minutes{49};
// 2025-06-03 12:00:00 UTC.
sys_seconds const now_2025 = sys_days{year{2025} / June / 3} + hours{12};

std::optional<seconds> at(std::string_view v, system_clock::time_point now) {
  return parse_retry_after(v, now);
}

TEST(RetryAfterDelta, Digits) {
  EXPECT_EQ(at("120", now_2025), seconds{120});
  EXPECT_EQ(at("0", now_2025), seconds{0});
  EXPECT_EQ(at("007", now_2025), seconds{7});
  EXPECT_EQ(at("1", now_2025), seconds{1});
}

TEST(RetryAfterDelta, SurroundingWhitespace) {
  EXPECT_EQ(at(" 120", now_2025), seconds{120});
  EXPECT_EQ(at("120 ", now_2025), seconds{120});
  EXPECT_EQ(at("\t 5 \t", now_2025), seconds{5});
}

TEST(RetryAfterDelta, RejectsSignsFractionsAndGarbage) {
  for (char const* v : {"+5", "-1", "-0", "1.5", "1e3", "", " ", "\t", "abc", "12abc", "1 2",
                        "0x10", "5s", "\xd9\xa5" /* ARABIC-INDIC DIGIT FIVE */})
    EXPECT_FALSE(at(v, now_2025).has_value()) << '"' << v << '"';
}

TEST(RetryAfterDelta, HugeValuesSaturateAt2To31) {
  seconds const cap{2147483648LL};
  EXPECT_EQ(at("2147483647", now_2025), seconds{2147483647});
  EXPECT_EQ(at("2147483648", now_2025), cap);
  EXPECT_EQ(at("2147483649", now_2025), cap);
  EXPECT_EQ(at("9223372036854775807", now_2025), cap);
  EXPECT_EQ(at("99999999999999999999999999999999999999999999", now_2025), cap);
  // Saturated values can be added to a time point without overflow.
  auto const later = system_clock::now() + *at("999999999999999999999999", now_2025);
  EXPECT_GT(later, system_clock::now());
}

TEST(RetryAfterDate, ImfFixdate) {
  EXPECT_EQ(at("Sun, 06 Nov 1994 08:49:37 GMT", rfc_now), seconds{37});
  EXPECT_EQ(at("  Sun, 06 Nov 1994 08:49:37 GMT\t", rfc_now), seconds{37});
  EXPECT_EQ(at("Sun, 06 Nov 1994 09:49:37 GMT", rfc_now), seconds{3600 + 37});
  EXPECT_EQ(at("Mon, 07 Nov 1994 08:49:00 GMT", rfc_now), seconds{86400});
}

TEST(RetryAfterDate, Rfc850) {
  EXPECT_EQ(at("Sunday, 06-Nov-94 08:49:37 GMT", rfc_now), seconds{37});
}

TEST(RetryAfterDate, Asctime) {
  EXPECT_EQ(at("Sun Nov  6 08:49:37 1994", rfc_now), seconds{37});
  EXPECT_EQ(at("Sun Nov 06 08:49:37 1994", rfc_now), seconds{37});  // 2DIGIT day
  EXPECT_EQ(at("Wed Nov 16 08:49:00 1994", rfc_now), seconds{10 * 86400});
  EXPECT_FALSE(at("Sun Nov 6 08:49:37 1994", rfc_now));  // single space, one digit
}

TEST(RetryAfterDate, RoundsUpAgainstSubSecondNow) {
  // 36.25 s to wait: never retry early.
  auto const now = system_clock::time_point{rfc_now} + milliseconds{750};
  EXPECT_EQ(at("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds{37});
  auto const just_after = system_clock::time_point{rfc_now + seconds{37}} + nanoseconds{1};
  EXPECT_EQ(at("Sun, 06 Nov 1994 08:49:37 GMT", just_after), seconds{0});
}

TEST(RetryAfterDate, PastAndPresentGiveZero) {
  EXPECT_EQ(at("Sun, 06 Nov 1994 08:49:37 GMT", now_2025), seconds{0});
  EXPECT_EQ(at("Sunday, 06-Nov-94 08:49:37 GMT", now_2025), seconds{0});
  EXPECT_EQ(at("Sun Nov  6 08:49:37 1994", now_2025), seconds{0});
  EXPECT_EQ(at("Tue, 03 Jun 2025 12:00:00 GMT", now_2025), seconds{0});  // exactly now
  EXPECT_EQ(at("Tue, 03 Jun 2025 11:59:59 GMT", now_2025), seconds{0});
  EXPECT_EQ(at("Tue, 03 Jun 2025 12:00:01 GMT", now_2025), seconds{1});
  EXPECT_EQ(at("Thu, 01 Jan 1970 00:00:00 GMT", now_2025), seconds{0});
  EXPECT_EQ(at("Mon, 01 Jan 0001 00:00:00 GMT", now_2025), seconds{0});
}

TEST(RetryAfterDate, FarFutureDoesNotOverflow) {
  auto const expected = sys_days{year{9999} / December / 31} + hours{23} + minutes{59} +
                        seconds{59} - now_2025;
  EXPECT_EQ(at("Fri, 31 Dec 9999 23:59:59 GMT", now_2025), expected);
}

TEST(RetryAfterDate, Rfc850TwoDigitYearWindow) {
  sys_seconds const now = sys_days{year{2025} / January / 1};
  // 35 → 2035 (10 years ahead).
  EXPECT_EQ(at("Monday, 01-Jan-35 00:00:00 GMT", now),
            sys_seconds{sys_days{year{2035} / January / 1}} - now);
  // 75 → 2075: exactly 50 years ahead is not "more than 50".
  EXPECT_EQ(at("Friday, 01-Jan-75 00:00:00 GMT", now),
            sys_seconds{sys_days{year{2075} / January / 1}} - now);
  // 76 → 1976, 94 → 1994, 24 → 2024: the past.
  EXPECT_EQ(at("Thursday, 01-Jan-76 00:00:00 GMT", now), seconds{0});
  EXPECT_EQ(at("Saturday, 01-Jan-94 00:00:00 GMT", now), seconds{0});
  EXPECT_EQ(at("Monday, 01-Jan-24 00:00:00 GMT", now), seconds{0});
  // 25 → 2025, later in the year.
  EXPECT_EQ(at("Sunday, 02-Feb-25 00:00:00 GMT", now), seconds{32 * 86400});
  // From 2080, "00" is 2100 (20 years ahead), "31" is 2031 (past).
  sys_seconds const late = sys_days{year{2080} / January / 1};
  EXPECT_EQ(at("Friday, 01-Jan-00 00:00:00 GMT", late),
            sys_seconds{sys_days{year{2100} / January / 1}} - late);
  EXPECT_EQ(at("Wednesday, 01-Jan-31 00:00:00 GMT", late), seconds{0});
}

TEST(RetryAfterDate, LeapDays) {
  sys_seconds const now = sys_days{year{2024} / February / 28};
  EXPECT_EQ(at("Thu, 29 Feb 2024 00:00:00 GMT", now), seconds{86400});
  EXPECT_EQ(at("Thu Feb 29 00:00:00 2024", now), seconds{86400});
  EXPECT_EQ(at("Thursday, 29-Feb-24 00:00:00 GMT", now), seconds{86400});
  EXPECT_EQ(at("Fri, 01 Mar 2024 00:00:00 GMT", now), seconds{2 * 86400});
  EXPECT_EQ(at("Tue, 29 Feb 2000 00:00:00 GMT", now), seconds{0});  // valid, past
  EXPECT_FALSE(at("Wed, 29 Feb 2023 00:00:00 GMT", now));            // not a leap year
  EXPECT_FALSE(at("Thu, 29 Feb 1900 00:00:00 GMT", now));            // century
  EXPECT_FALSE(at("Mon, 29 Feb 2100 00:00:00 GMT", now));            // century
  EXPECT_FALSE(at("Fri, 30 Feb 2024 00:00:00 GMT", now));
  // 2400 is a leap year: far future, but valid.
  EXPECT_TRUE(at("Tue, 29 Feb 2400 00:00:00 GMT", now).value() > seconds{0});
}

TEST(RetryAfterDate, RangesValidated) {
  sys_seconds const now = now_2025;
  EXPECT_FALSE(at("Wed, 31 Apr 2030 00:00:00 GMT", now));
  EXPECT_FALSE(at("Wed, 31 Jun 2030 00:00:00 GMT", now));
  EXPECT_FALSE(at("Wed, 32 Jan 2030 00:00:00 GMT", now));
  EXPECT_FALSE(at("Wed, 00 Jan 2030 00:00:00 GMT", now));
  EXPECT_FALSE(at("Wed, 01 Jan 2030 24:00:00 GMT", now));
  EXPECT_FALSE(at("Wed, 01 Jan 2030 23:60:00 GMT", now));
  EXPECT_FALSE(at("Wed, 01 Jan 2030 23:59:61 GMT", now));
  EXPECT_TRUE(at("Tue, 31 Dec 2030 23:59:59 GMT", now));
  EXPECT_TRUE(at("Tue, 31 Jan 2030 00:00:00 GMT", now));
  // A leap second is accepted and counts as the next minute's start.
  EXPECT_EQ(at("Tue, 03 Jun 2025 12:00:60 GMT", now), seconds{60});
}

TEST(RetryAfterDate, MalformedDates) {
  sys_seconds const now = rfc_now;
  for (char const* v : {
           "Sun, 06 Nov 1994 08:49:37",            // no GMT
           "Sun, 06 Nov 1994 08:49:37 UTC",        // not GMT
           "Sun, 06 Nov 1994 08:49:37 GMT x",      // trailing garbage
           "Sun 06 Nov 1994 08:49:37 GMT",         // no comma
           "Sun,  06 Nov 1994 08:49:37 GMT",       // extra space
           "Sun, 6 Nov 1994 08:49:37 GMT",         // one-digit day
           "Sun, 06 November 1994 08:49:37 GMT",   // long month
           "Sun, 06 Xyz 1994 08:49:37 GMT",        // no such month
           "Sux, 06 Nov 1994 08:49:37 GMT",        // no such day
           "sun, 06 nov 1994 08:49:37 gmt",        // case-sensitive, as in RFC 9110
           "Sun, 06 Nov 94 08:49:37 GMT",          // two-digit year in IMF-fixdate
           "Sun, 06 Nov 1994 8:49:37 GMT",         // one-digit hour
           "Sun, 06 Nov 1994 08-49-37 GMT",        // bad separators
           "Sun, 06-Nov-94 08:49:37 GMT",          // short day name in RFC 850
           "Sunday, 06-Nov-1994 08:49:37 GMT",     // four-digit year in RFC 850
           "Sunday, 06 Nov 1994 08:49:37 GMT",     // long day name in IMF-fixdate
           "Sun Nov  6 08:49:37 1994 GMT",         // asctime has no zone
           "Sun Nov  6 08:49:37 94",               // two-digit asctime year
           "Sun, 06 Nov 1994 08:49:37 GMT\r\n",    // CR LF is not OWS
           "Sun, ０６ Nov 1994 08:49:37 GMT",      // full-width digits
           "Sun,",
           "GMT",
       })
    EXPECT_FALSE(at(v, now).has_value()) << '"' << v << '"';
}

TEST(RetryAfterDate, DayNameIsNotCheckedAgainstTheDate) {
  // 1994-11-06 was a Sunday; servers that get the weekday wrong still get honoured.
  EXPECT_EQ(at("Mon, 06 Nov 1994 08:49:37 GMT", rfc_now), seconds{37});
}

TEST(RetryAfterDate, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        auto const now = system_clock::time_point{rfc_now} - seconds{i};
        auto const a = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now);
        auto const b = parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now);
        auto const c = parse_retry_after("Sun Nov  6 08:49:37 1994", now);
        if (a != seconds{37 + i} || b != a || c != a) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
