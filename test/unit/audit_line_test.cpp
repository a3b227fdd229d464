// SPDX-License-Identifier: BSL-1.0
// AuditLine: the line format and its hash (design note §2), against fixed vectors whose h
// were computed with `sha256sum` over the sed recipe of §3, not by the library.
#include "audit_test_support.hpp"

#include <regex>

namespace {

using namespace velt::audit;
using namespace velt::audit::test;

std::string const zeros(64, '0');
// Built by hand (printf | sha256sum); see the file comment.
std::string const fixed_log =
    "{\"v\":1,\"seq\":1,\"prev\":\"" + zeros +
    "\",\"run\":\"9f1c2a0b3d4e5f60718293a4b5c6d7e8\",\"at\":\"2026-12-06T02:50:00.123Z\",\"event\":\"run_start\","
    "\"tool\":\"velt-gdpr\",\"toolVersion\":\"0.1.0\",\"command\":\"export\",\"host\":\"h\",\"pid\":42,"
    "\"organizationId\":\"org-1\",\"baseUrl\":\"https://api.velt.dev\",\"args\":[\"export\"],"
    "\"h\":\"1de55f875001e1d34c6ca2d333d3e4c567e6b356d20d0f7dab3920a6f46b0d30\"}\n"
    "{\"v\":1,\"seq\":2,\"prev\":\"1de55f875001e1d34c6ca2d333d3e4c567e6b356d20d0f7dab3920a6f46b0d30\","
    "\"run\":\"9f1c2a0b3d4e5f60718293a4b5c6d7e8\",\"at\":\"2026-12-06T02:50:01.004Z\",\"event\":\"run_end\","
    "\"state\":\"complete\",\"exitStatus\":0,\"lines\":2,\"users\":0,\"failed\":0,\"skipped\":0,"
    "\"h\":\"8e6bb8160e27840c28428be1c6a4eb8533895852ba22c8e0916ccfb468c962e0\"}\n";

TEST(AuditLine, HashIsSha256OfLineWithoutH) {
  auto const lines = split_lines(fixed_log);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(sha256_hex(hashed_part(lines[0])), "1de55f875001e1d34c6ca2d333d3e4c567e6b356d20d0f7dab3920a6f46b0d30");
  EXPECT_EQ(sha256_hex(hashed_part(lines[1])), "8e6bb8160e27840c28428be1c6a4eb8533895852ba22c8e0916ccfb468c962e0");
  chain_verifier v;
  EXPECT_FALSE(v.feed(lines[0]));
  EXPECT_FALSE(v.feed(lines[1]));
  EXPECT_FALSE(v.finish());
  ASSERT_TRUE(v.summary().head);
  EXPECT_EQ(v.summary().head->seq, 2u);
  EXPECT_EQ(v.summary().head->h, "8e6bb8160e27840c28428be1c6a4eb8533895852ba22c8e0916ccfb468c962e0");
  EXPECT_EQ(v.summary().runs, 1u);
  EXPECT_TRUE(v.summary().open_runs.empty());

  // Another h for the same content is refused as a change of that line.
  std::string wrong = fixed_log;
  wrong.replace(wrong.find("8e6bb816"), 8, "8e6bb817");
  auto const p = verify_text(wrong);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->line, 2u);
  EXPECT_EQ(p->what, "line 2 was changed: its content does not match its hash");
}

TEST(AuditLine, WriterLinesFollowTheFormat) {
  temp_dir dir;
  auto const file = dir / "audit.jsonl";
  auto w = log_writer::open(file);
  run_info info;
  info.command = "export";
  info.organization_id = "org-1";
  info.base_url = "https://api.velt.dev";
  info.dir = dir.path();
  info.args = {"export", "--out", "x\"y\\z\n\xC3\xA9"};
  w.begin_run(info);
  w.append(event{"exported", {{"userId", "alice@example.com"}, {"pages", 2}, {"items", 7}}});
  auto const head = w.end_run("complete", 0, {{"users", 1}, {"failed", 0}, {"skipped", 0}});
  EXPECT_EQ(head.seq, 3u);

  auto const lines = split_lines(read_all(file));
  ASSERT_EQ(lines.size(), 3u);
  std::regex const envelope(
      R"re(^\{"v":1,"seq":([0-9]+),"prev":"([0-9a-f]{64})","run":"([0-9a-f]{32})","at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","event":"([a-z_]+)",.*,"h":"([0-9a-f]{64})"\}\n$)re");
  std::string prev = zeros;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, envelope)) << lines[i];
    EXPECT_EQ(m[1].str(), std::to_string(i + 1));
    EXPECT_EQ(m[2].str(), prev);
    EXPECT_EQ(m[3].str(), w.run_id());
    EXPECT_EQ(m[5].str(), sha256_hex(hashed_part(lines[i])));
    prev = m[5].str();
  }
  EXPECT_EQ(prev, head.h);
  // Members in the order of §2.2; strings escaped by Boost.JSON, UTF-8 as is.
  EXPECT_NE(lines[0].find("\"event\":\"run_start\",\"tool\":\"velt-gdpr\",\"toolVersion\":\""), std::string::npos);
  EXPECT_NE(lines[0].find(",\"organizationId\":\"org-1\",\"baseUrl\":\"https://api.velt.dev\",\"dir\":\""),
            std::string::npos);
  EXPECT_NE(lines[0].find("\"args\":[\"export\",\"--out\",\"x\\\"y\\\\z\\n\xC3\xA9\"],\"h\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"event\":\"exported\",\"userId\":\"alice@example.com\",\"pages\":2,\"items\":7,\"h\""),
            std::string::npos);
  EXPECT_NE(lines[2].find("\"event\":\"run_end\",\"state\":\"complete\",\"exitStatus\":0,\"lines\":3,\"users\":1,"
                          "\"failed\":0,\"skipped\":0,\"h\""),
            std::string::npos);
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(AuditLine, WriterRefusesWhatALineCannotHold) {
  temp_dir dir;
  auto w = log_writer::open(dir / "audit.jsonl");
  EXPECT_THROW(w.append(event{"exported", {{"userId", "a"}}}), error);  // before begin_run
  w.begin_run(run_info{});
  for (auto const* key : {"v", "seq", "prev", "run", "at", "event", "keySha256", "sig", "h"}) {
    EXPECT_THROW(w.append(event{"exported", {{key, "x"}}}), error) << key;
  }
  EXPECT_THROW(w.append(event{"exported", {{"ratio", 0.5}}}), error);
  EXPECT_THROW(w.append(event{"", {}}), error);
  for (auto const* name : {"run_start", "run_end", "cut"}) EXPECT_THROW(w.append(event{name, {}}), error) << name;
  EXPECT_THROW(w.append(event{"exported", {{"userId", std::string(70000, 'x')}}}), error);
  EXPECT_THROW(w.append(event{"exported", {{"userId", "\xFF\xFE"}}}), error);  // not UTF-8
  w.forbid({"s3cr\"et-token", ""});
  try {
    w.append(event{"exported", {{"note", "has s3cr\"et-token inside"}}});
    ADD_FAILURE() << "a secret was written";
  } catch (error const& e) {
    EXPECT_EQ(e.kind(), error_kind::secret_in_line);
  }
  // Nothing refused reached the file: it is run_start alone.
  auto const text = read_all(dir / "audit.jsonl");
  EXPECT_EQ(split_lines(text).size(), 1u);
  EXPECT_EQ(text.find("s3cr"), std::string::npos);
  EXPECT_FALSE(verify_text(text));
}

}  // namespace
