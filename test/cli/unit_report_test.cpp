// SPDX-License-Identifier: BSL-1.0
// report.json, the export journal, the progress line, time formats (velt_gdpr_core).
#include "cli_support.hpp"

#include "core/export_journal.hpp"
#include "core/progress.hpp"
#include "core/report.hpp"
#include "core/time_format.hpp"

#include <boost/json/parse.hpp>

namespace velt::test::cli {
namespace {

using namespace velt::gdpr;

std::chrono::system_clock::time_point at(std::string_view s) { return *parse_utc(s); }

TEST(Report, JsonHasTheDocumentedShape) {
  run_report r("org-1", at("2026-11-26T10:00:00Z"));
  r.add_ok(3, 250, 4096);
  r.add_ok(1, 0, 100);
  r.add_skipped();
  r.add_failure(user_failure{"user-7", velt::status::permission_denied, 403, "denied", 1});
  r.finish(run_state::complete, at("2026-11-26T10:05:00Z"));
  auto const j = boost::json::parse(to_json_text(r)).as_object();
  EXPECT_EQ(j.at("organizationId"), "org-1");
  EXPECT_EQ(j.at("startedAt"), "2026-11-26T10:00:00Z");
  EXPECT_EQ(j.at("finishedAt"), "2026-11-26T10:05:00Z");
  EXPECT_EQ(j.at("state"), "complete");
  EXPECT_EQ(j.at("users").at("ok"), 2);
  EXPECT_EQ(j.at("users").at("failed"), 1);
  EXPECT_EQ(j.at("users").at("skipped"), 1);
  auto const& f = j.at("failures").as_array().at(0).as_object();
  EXPECT_EQ(f.at("userId"), "user-7");
  EXPECT_EQ(f.at("status"), "PERMISSION_DENIED");
  EXPECT_EQ(f.at("httpStatus"), 403);
  EXPECT_EQ(f.at("message"), "denied");
  EXPECT_EQ(f.at("attempts"), 1);
  EXPECT_EQ(j.at("pages"), 4);
  EXPECT_EQ(j.at("items"), 250);
  EXPECT_EQ(j.at("bytes"), 4196);
  EXPECT_FALSE(j.contains("shard"));
  EXPECT_FALSE(j.contains("error"));
}

TEST(Report, RunningReportHasNullFinishAndDirtyTracking) {
  run_report r("org", at("2026-01-01T00:00:00Z"));
  r.set_shard("1/4");
  auto const j = boost::json::parse(to_json_text(r)).as_object();
  EXPECT_TRUE(j.at("finishedAt").is_null());
  EXPECT_EQ(j.at("state"), "running");
  EXPECT_EQ(j.at("shard"), "1/4");
  EXPECT_TRUE(r.take_dirty());
  EXPECT_FALSE(r.take_dirty());
  r.add_skipped();
  EXPECT_TRUE(r.take_dirty());
}

TEST(Report, FailuresAreCappedAndIdsMadePrintable) {
  run_report r("org", at("2026-01-01T00:00:00Z"));
  for (std::size_t i = 0; i < run_report::max_failures + 5; ++i) {
    r.add_failure(user_failure{"u\xFF" + std::to_string(i), velt::status::internal, 500, "x", 2});
  }
  auto const j = boost::json::parse(to_json_text(r)).as_object();
  EXPECT_EQ(j.at("failures").as_array().size(), run_report::max_failures);
  EXPECT_EQ(j.at("failuresOmitted"), 5);
  EXPECT_EQ(j.at("users").at("failed"), run_report::max_failures + 5);
  EXPECT_EQ(j.at("failures").as_array()[0].at("userId"), "u\xEF\xBF\xBD" "0");
  EXPECT_EQ(printable_id("ok \xC3\xBC"), "ok \xC3\xBC");
  EXPECT_EQ(printable_id("\xC3"), "\xEF\xBF\xBD");
  EXPECT_EQ(printable_id("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(Journal, RoundTripsAndRejectsAnythingElse) {
  export_journal j{"org-1", "user \"q\"", 7, "bhdwdqwjs298e39e479ddkeuw==329",
                   {{"comments", 700, 123456}, {"userProfiles", 1, 20}}};
  auto const text = to_json_text(j);
  auto const back = parse_journal(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, j);
  EXPECT_FALSE(parse_journal(""));
  EXPECT_FALSE(parse_journal(text.substr(0, text.size() / 2)));  // torn
  EXPECT_FALSE(parse_journal(R"({"version":2,"organizationId":"o","userId":"u","pages":1,"nextPageToken":"t","features":[]})"));
  EXPECT_FALSE(parse_journal(R"({"version":1,"organizationId":"o","userId":"u","pages":1,"nextPageToken":"","features":[]})"));
  EXPECT_FALSE(parse_journal(R"({"version":1,"organizationId":"o","userId":"u","pages":-1,"nextPageToken":"t","features":[]})"));
}

TEST(Progress, LineShowsWhatIsKnown) {
  progress_snapshot s;
  s.ok = 40;
  s.failed = 2;
  s.skipped = 8;
  s.total = 100;
  s.pages = 1234;
  s.items = 45600;
  s.bytes = 123'000'000;
  s.retries = 3;
  s.elapsed = 10s;
  s.rate = 95.2;
  EXPECT_EQ(format_progress(s),
            "users 50/100 (2 failed, 8 skipped) | 1.23k pages | 45.6k items | 123 MB | 123 pages/s | "
            "3 retries | paced to 95 req/s | ETA 0:12");
  s.rate.reset();
  s.paused = progress_snapshot::pause::outage;
  s.paused_for = 4200ms;
  EXPECT_EQ(format_progress(s),
            "users 50/100 (2 failed, 8 skipped) | 1.23k pages | 45.6k items | 123 MB | 123 pages/s | "
            "3 retries | paused: server unavailable for 4.2 s | ETA 0:12");
  s.paused = progress_snapshot::pause::throttled;
  s.paused_for = 12s;
  EXPECT_NE(format_progress(s).find(" | paused: throttled (the server asked to wait) for 12.0 s | "), std::string::npos);
  progress_snapshot empty;
  empty.elapsed = 1s;
  EXPECT_EQ(format_progress(empty), "users 0 | 0 pages | 0 items | 0 B | 0 pages/s");
}

TEST(Progress, EtaUsesThePaceOfExportedUsers) {
  progress_snapshot s;
  s.total = 1000;
  s.skipped = 500;  // instant, not part of the pace
  s.ok = 100;
  s.elapsed = 10s;
  auto eta = estimate_remaining(s);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->count(), 40);  // 400 left at 0.1 s each
  s.total.reset();
  EXPECT_FALSE(estimate_remaining(s));
}

TEST(TimeFormat, UtcClockCountsBytes) {
  EXPECT_EQ(format_utc(at("2026-11-26T10:00:00Z")), "2026-11-26T10:00:00Z");
  EXPECT_FALSE(parse_utc("2026-11-26 10:00:00Z"));
  EXPECT_FALSE(parse_utc("2026-13-26T10:00:00Z"));
  EXPECT_FALSE(parse_utc("2026-11-26T10:00:00"));
  EXPECT_EQ(format_clock(42s), "0:42");
  EXPECT_EQ(format_clock(3723s), "1:02:03");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1234), "1.23k");
  EXPECT_EQ(format_count(4560000), "4.56M");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(12'300'000), "12.3 MB");
  EXPECT_EQ(format_seconds(800ms), "0.8 s");
  EXPECT_EQ(format_seconds(200s), "3 min 20 s");
}

}  // namespace
}  // namespace velt::test::cli
