// SPDX-License-Identifier: BSL-1.0
// The tool's side of the audit log (velt_gdpr_core): the redaction of `run_start`'s
// arguments and base URL, and the audit thread's group commit over velt::audit::log_writer.
#include "cli_support.hpp"

#include "core/audit_args.hpp"
#include "core/audit_trail.hpp"
#include "core/console.hpp"
#include "core/erase_audit.hpp"

#include <velt/audit.hpp>

#include <boost/json/parse.hpp>

#include <thread>

namespace velt::test::cli {
namespace {

using namespace velt::gdpr;
using strings = std::vector<std::string>;

TEST(AuditArgs, RequestFieldValuesProxyUsersAndSecretsAreRedacted) {
  strings const argv{"export", "--org", "org-1", "--request-field", "uniqueId=\"alice@example.com\"",
                     "--request-field=veltUserIds=[\"bob\"]", "--proxy", "http://carol@proxy.example:3128/",
                     "--proxy=proxy.example", "--api-key", "guessed-key", "--auth-token=tok",
                     "--user", "ak-IN-USE-x", "--signing-key", "/keys/k.pem", "--out", "/tmp/out"};
  auto const r = redact_args(argv, {"ak-IN-USE", "at-IN-USE"});
  strings const want{"export", "--org", "org-1", "--request-field", "uniqueId=<redacted>",
                     "--request-field=veltUserIds=<redacted>", "--proxy", "http://proxy.example:3128",
                     "--proxy=http://proxy.example:1080", "--api-key", "<redacted>", "--auth-token=<redacted>",
                     "--user", "<redacted>", "--signing-key", "/keys/k.pem", "--out", "/tmp/out"};
  EXPECT_EQ(r.args, want);
  EXPECT_EQ(r.omitted, 0u);
}

TEST(AuditArgs, ArgumentsPast32KiBAreCountedNotKept) {
  strings argv(100, std::string(1000, 'u'));
  auto const r = redact_args(argv, {});
  EXPECT_EQ(r.args.size(), 32u);  // 32 * 1000 <= 32768 < 33 * 1000
  EXPECT_EQ(r.omitted, 68u);
}

TEST(AuditArgs, BaseUrlKeepsSchemeHostPortAndPathOnly) {
  EXPECT_EQ(redact_base_url("https://user:pw@api.example:8443/v2?key=x#f"), "https://api.example:8443/v2");
  EXPECT_EQ(redact_base_url("https://api.velt.dev"), "https://api.velt.dev");
  EXPECT_EQ(redact_base_url("not a url"), "<redacted>");
}

std::vector<boost::json::object> log_lines(fs::path const& file) {
  std::vector<boost::json::object> out;
  std::istringstream in(read_text(file));
  for (std::string line; std::getline(in, line);) out.push_back(boost::json::parse(line).as_object());
  return out;
}

audit::run_info test_run() {
  audit::run_info info;
  info.command = "test";
  info.organization_id = "org-1";
  info.base_url = "https://127.0.0.1:1";
  return info;
}

TEST(AuditTrail, GroupCommitWritesEverythingInOrderWithFewSyncs) {
  temp_dir dir;
  fs::path const log = dir / "audit.jsonl";
  std::uint64_t syncs = 0;
  {
    audit_trail trail(log, std::nullopt, {"SECRET"}, audit_policy{.queue_limit = 64, .sync_lines = 256,
                                                                   .sync_delay = std::chrono::milliseconds(100)});
    trail.begin(test_run());
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&trail, p] {
        for (int i = 0; i < 500; ++i) trail.record("exported", {{"userId", "u" + std::to_string(p) + "-" + std::to_string(i)}, {"n", i}});
      });
    }
    for (auto& t : producers) t.join();
    auto const head = trail.end("complete", 0, {{"users", 2000}});
    ASSERT_TRUE(head);
    EXPECT_EQ(head->seq, 2002u);  // run_start, 2000 events, run_end
    syncs = trail.syncs();
  }
  // 2000 lines at >= 256 per sync, plus a few timed ones: far fewer syncs than lines.
  EXPECT_LE(syncs, 40u);
  auto const lines = log_lines(log);
  ASSERT_EQ(lines.size(), 2002u);
  std::map<int, int> next;  // producer -> next i: each producer's events in its own order
  for (std::size_t k = 1; k + 1 < lines.size(); ++k) {
    std::string const user(lines[k].at("userId").as_string());
    int const p = user[1] - '0';
    EXPECT_EQ(lines[k].at("n"), next[p]) << user;
    next[p] = static_cast<int>(lines[k].at("n").as_int64()) + 1;
  }
  EXPECT_TRUE(audit::verify_log(log).good());
}

TEST(AuditTrail, WaitDurableReturnsOnceTheLineIsSyncedWithoutWaitingForTheTimer) {
  temp_dir dir;
  audit_trail trail(dir / "audit.jsonl", std::nullopt, {},
                    audit_policy{.queue_limit = 16, .sync_lines = 1000, .sync_delay = std::chrono::hours(1)});
  trail.begin(test_run());
  auto const ticket = trail.record("verified", {{"userId", "u"}, {"pages", 1}, {"items", 0}});
  auto const start = std::chrono::steady_clock::now();
  EXPECT_TRUE(trail.wait_durable(ticket));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(trail.syncs(), 1u);
  EXPECT_TRUE(trail.end("complete", 0, {}));
}

TEST(AuditTrail, ASecretInAnEventFailsTheTrailAndDropsWhatFollows) {
  temp_dir dir;
  std::string failure;
  audit_trail trail(dir / "audit.jsonl", std::nullopt, {"SECRET-TOKEN"});
  trail.on_failure([&failure](std::string const& what) { failure = what; });
  trail.begin(test_run());
  auto const ticket = trail.record("exported", {{"userId", "x-SECRET-TOKEN-y"}});
  EXPECT_FALSE(trail.wait_durable(ticket));
  EXPECT_NE(failure.find("audit log"), std::string::npos) << failure;
  EXPECT_EQ(trail.record("exported", {{"userId", "later"}}), 0u);
  EXPECT_FALSE(trail.end("stopped", 3, {}));
  EXPECT_EQ(read_text(dir / "audit.jsonl").find("SECRET-TOKEN"), std::string::npos);
}

struct quiet_printer final : velt::erase_observer {};

TEST(EraseAudit, AReceiptOnlyForAUserVerifiedEmptyAfterItsJobCompleted) {
  temp_dir dir;
  audit::signing_key::generate().save(dir / "key.pem");
  audit_trail trail(dir / "audit.jsonl", audit::signing_key::load(dir / "key.pem"), {});
  trail.begin(test_run());
  quiet_printer printer;
  console con(progress_mode::never, velt::log_level::error);
  std::string failure;
  {
    erase_audit a(printer, trail, receipt_settings{dir / "receipts", "org-1"}, con,
                  [&failure](std::string const& what) { failure = what; });
    a.on_queued({"clean", "dirty"}, velt::delete_job{.job_id = "job-1", .tasks_count = 2, .message = ""});
    a.on_queued({"late"}, velt::delete_job{.job_id = "job-2", .tasks_count = 1, .message = ""});
    a.on_completed("job-1", velt::delete_status{.is_delete_completed = true, .tasks_left = 0,
                                                .last_task_completed_time = 1765000000123});
    a.on_unfinished("job-2", velt::error_details{});
    a.on_verified("clean", velt::user_verification{.pages = 1, .items = 0, .items_by_feature = {}});
    // Its job completed, yet data is left: the verified line says so, and no receipt.
    a.on_verified("dirty", velt::user_verification{.pages = 2, .items = 5, .items_by_feature = {{"comments", 5}}});
    a.on_remaining("dirty", {{"comments", 5}});
    // Nothing left, but its job was never seen complete: no receipt either.
    a.on_verified("late", velt::user_verification{.pages = 1, .items = 0, .items_by_feature = {}});
    a.finish_receipts();
    EXPECT_EQ(a.receipts(), 1u);
  }
  EXPECT_TRUE(failure.empty()) << failure;
  auto const head = trail.end("complete", 0, {});
  ASSERT_TRUE(head);
  EXPECT_EQ(files_in(dir / "receipts"), (std::map<std::string, std::string>{
                                            {"clean.json", read_text(dir / "receipts" / "clean.json")},
                                            {"clean.json.sig", read_text(dir / "receipts" / "clean.json.sig")}}));
  auto const receipt = boost::json::parse(read_text(dir / "receipts" / "clean.json")).as_object();
  EXPECT_EQ(receipt.at("jobId"), "job-1");
  EXPECT_EQ(receipt.at("lastTaskCompletedTime"), 1765000000123);
  EXPECT_EQ(receipt.at("run"), boost::json::value(trail.run_id()));
  auto const key = audit::public_key::load(dir / "key.pem.pub");
  EXPECT_TRUE(audit::verify_receipt_file(dir / "receipts" / "clean.json", key).good);
  auto const lines = log_lines(dir / "audit.jsonl");
  std::vector<std::string> names;
  for (auto const& l : lines) names.emplace_back(l.at("event").as_string());
  EXPECT_EQ(names, (strings{"run_start", "deletion_requested", "deletion_requested", "deletion_requested",
                            "deletion_completed", "deletion_unfinished", "verified", "verified", "verified",
                            "run_end"}));
  EXPECT_EQ(lines[4].at("users"), 2);
  EXPECT_EQ(lines[7].at("itemsByFeature"), (boost::json::object{{"comments", 5}}));
  EXPECT_FALSE(lines[6].contains("itemsByFeature"));
  // The receipt was written after its verified line was durable: the line is in the log.
  EXPECT_TRUE(audit::verify_log(dir / "audit.jsonl", {key}).good());
}

}  // namespace
}  // namespace velt::test::cli
