// SPDX-License-Identifier: BSL-1.0
// AuditVerify: the verifier names the line that was edited, deleted, inserted, moved or
// cut (design note §2.1), checks a recorded head, and run_end signatures (§3).
#include "audit_test_support.hpp"

namespace {

using namespace velt::audit;
using namespace velt::audit::test;

struct sample {
  temp_dir dir;
  std::filesystem::path file = dir / "audit.jsonl";
  std::string text;
  line_ref head;
  explicit sample(signing_key const* key = nullptr) {
    head = write_sample_run(file, key);
    text = read_all(file);
  }
};

TEST(AuditVerify, SampleIsThirtyValidLines) {
  sample s;
  auto const v = verify_log(s.file);
  EXPECT_TRUE(v.good()) << v.failure->what;
  EXPECT_EQ(v.summary.lines, 30u);
  EXPECT_EQ(v.summary.runs, 1u);
  ASSERT_TRUE(v.summary.head);
  EXPECT_EQ(v.summary.head->h, s.head.h);
  EXPECT_EQ(v.summary.head->seq, 30u);
}

TEST(AuditVerify, EditAnyByteNamesThatLine) {
  sample s;
  auto const lines = split_lines(s.text);
  ASSERT_EQ(lines.size(), 30u);
  auto check = [&](std::size_t line, std::size_t at) {
    auto edited = lines;
    edited[line][at] = static_cast<char>(edited[line][at] ^ 0x01);
    auto const p = verify_text(join(edited));
    ASSERT_TRUE(p) << "line " << line + 1 << " byte " << at;
    EXPECT_EQ(p->line, line + 1) << p->what;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < line; ++i) offset += lines[i].size();
    EXPECT_EQ(p->offset, offset);
    EXPECT_EQ(p->what.rfind("line " + std::to_string(line + 1) + " ", 0), 0u) << p->what;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::size_t const last = lines[i].size() - 2;  // not the newline
    for (std::size_t at : {std::size_t{0}, last / 2, last}) check(i, at);
  }
  for (std::size_t i : {std::size_t{0}, std::size_t{14}, std::size_t{29}}) {
    for (std::size_t at = 0; at + 1 < lines[i].size(); ++at) check(i, at);
  }
  // A content edit (not the syntax) says "changed".
  auto edited = lines;
  edited[1].replace(edited[1].find("\"userId\":\"user-"), 15, "\"userId\":\"usEr-");
  auto const p = verify_text(join(edited));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what, "line 2 was changed: its content does not match its hash");
}

TEST(AuditVerify, DeleteInsertSwapNameTheLine) {
  sample s;
  auto const lines = split_lines(s.text);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    auto deleted = lines;
    deleted.erase(deleted.begin() + static_cast<std::ptrdiff_t>(k));
    auto p = verify_text(join(deleted));
    if (k + 1 == lines.size()) {
      EXPECT_FALSE(p) << "deleting the last line leaves a shorter valid chain";
      p = verify_text(join(deleted), {}, s.head);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->what, "line 30 missing: the log ends at line 29 (lines were cut off its end)");
      continue;
    }
    ASSERT_TRUE(p) << "delete " << k + 1;
    EXPECT_EQ(p->line, k + 1);
    EXPECT_EQ(p->what, "line " + std::to_string(k + 1) + " has sequence number " + std::to_string(k + 2) +
                           ", expected " + std::to_string(k + 1) +
                           ": lines were deleted, inserted or reordered before it");

    auto inserted = lines;
    inserted.insert(inserted.begin() + static_cast<std::ptrdiff_t>(k), lines[(k + 5) % lines.size()]);
    p = verify_text(join(inserted));
    ASSERT_TRUE(p) << "insert at " << k + 1;
    EXPECT_EQ(p->line, k + 1);

    if (k + 1 < lines.size()) {
      auto swapped = lines;
      std::swap(swapped[k], swapped[k + 1]);
      p = verify_text(join(swapped));
      ASSERT_TRUE(p) << "swap " << k + 1;
      EXPECT_EQ(p->line, k + 1);
    }
  }
  // A replaced line that was re-hashed alone, with the right seq, breaks the prev link.
  auto replaced = lines;
  auto forged = rehash_chain(join({lines.begin(), lines.begin() + 5}));
  auto forged_lines = split_lines(forged);
  forged_lines[4].replace(forged_lines[4].find("\"userId\":\"user-"), 15, "\"userId\":\"usEr-");
  replaced[4] = split_lines(rehash_chain(join(forged_lines)))[4];
  auto const p = verify_text(join(replaced));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->line, 6u);
  EXPECT_EQ(p->what, "line 6 does not follow line 5 (prev mismatch)");
}

TEST(AuditVerify, TruncateAnywhereNamesTheLine) {
  sample s;
  auto const lines = split_lines(s.text);
  std::size_t const start28 = s.text.size() - lines[29].size() - lines[28].size();
  for (std::size_t cut = start28; cut < s.text.size(); ++cut) {
    std::string const truncated = s.text.substr(0, cut);
    auto const p = verify_text(truncated);
    std::size_t const line_no = cut < s.text.size() - lines[29].size() ? 29 : 30;
    bool const at_boundary = cut == start28 || cut == s.text.size() - lines[29].size();
    if (at_boundary) {
      EXPECT_FALSE(p) << "cut at " << cut;
      auto const with_head = verify_text(truncated, {}, s.head);
      ASSERT_TRUE(with_head);
      EXPECT_EQ(with_head->line, 30u);
      continue;
    }
    ASSERT_TRUE(p) << "cut at " << cut;
    EXPECT_EQ(p->line, line_no);
    EXPECT_EQ(p->what, "line " + std::to_string(line_no) +
                           " is incomplete (no newline): a write was cut; the next run cuts it off");
  }
  // The same through the file: verify_log reads what is on disk.
  write_all(s.file, s.text.substr(0, s.text.size() - 10));
  auto const v = verify_log(s.file);
  ASSERT_FALSE(v.good());
  EXPECT_EQ(v.failure->line, 30u);
  EXPECT_EQ(v.summary.lines, 29u);
}

TEST(AuditVerify, HeadCheck) {
  sample s;
  auto const lines = split_lines(s.text);
  std::string const h12 = boost::json::parse(lines[11]).as_object().at("h").as_string().c_str();
  EXPECT_TRUE(verify_log(s.file, {}, line_ref{12, h12}).good());
  EXPECT_TRUE(verify_log(s.file, {}, s.head).good());
  auto v = verify_log(s.file, {}, line_ref{12, s.head.h});
  ASSERT_FALSE(v.good());
  EXPECT_EQ(v.failure->line, 12u);
  EXPECT_EQ(v.failure->what.rfind("line 12 is not " + s.head.h, 0), 0u) << v.failure->what;
  v = verify_log(s.file, {}, line_ref{31, s.head.h});
  ASSERT_FALSE(v.good());
  EXPECT_EQ(v.failure->what, "line 31 missing: the log ends at line 30 (lines were cut off its end)");
}

TEST(AuditVerify, SignatureCoversChain) {
  auto const key = signing_key::generate();
  sample s(&key);
  auto v = verify_log(s.file, {key.public_key()});
  ASSERT_TRUE(v.good()) << v.failure->what;
  EXPECT_EQ(v.summary.signatures_checked, 1u);
  EXPECT_EQ(v.summary.signed_through, 30u);
  auto const lines = split_lines(s.text);
  EXPECT_NE(lines[0].find(",\"keySha256\":\"" + key.public_key().fingerprint() + "\",\"h\":"), std::string::npos);
  EXPECT_NE(lines[29].find(",\"keySha256\":\"" + key.public_key().fingerprint() + "\",\"sig\":\""), std::string::npos);

  // A forger edits a line and re-hashes the whole chain: every h and prev checks, the
  // signature does not.
  std::string edited = s.text;
  edited.replace(edited.find("\"items\":3"), 9, "\"items\":0");
  std::string const forged = rehash_chain(edited);
  EXPECT_FALSE(verify_text(forged)) << "without a key, a re-hashed chain is consistent";
  auto p = verify_text(forged, {key.public_key()});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->line, 30u);
  EXPECT_NE(p->what.find("does not verify"), std::string::npos) << p->what;

  // Another key: named by its fingerprint.
  auto const other = signing_key::generate();
  p = verify_text(s.text, {other.public_key()});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what, "line 30: signature of run " + std::string(boost::json::parse(lines[29]).as_object().at("run").as_string()) +
                         " signed by key " + key.public_key().fingerprint() + ", not by the given key");
  // Several keys (rotation): the one named is used.
  EXPECT_FALSE(verify_text(s.text, {other.public_key(), key.public_key()}));

  // An unsigned run_end fails when a key is given; a mixed log passes without keys.
  write_sample_run(s.file);
  v = verify_log(s.file, {key.public_key()});
  ASSERT_FALSE(v.good());
  EXPECT_EQ(v.failure->line, 60u);
  EXPECT_NE(v.failure->what.find("ended unsigned"), std::string::npos) << v.failure->what;
  v = verify_log(s.file);
  EXPECT_TRUE(v.good());
  EXPECT_EQ(v.summary.signed_ends, 1u);
  EXPECT_EQ(v.summary.runs, 2u);
}

TEST(AuditVerify, OpenRunsAreListedNotFailed) {
  temp_dir dir;
  auto const file = dir / "audit.jsonl";
  auto w = log_writer::open(file);
  w.begin_run(run_info{});
  w.append(event{"exported", {{"userId", "a"}}});
  write_sample_run(file);
  auto const v = verify_log(file);
  ASSERT_TRUE(v.good());
  ASSERT_EQ(v.summary.open_runs.size(), 1u);
  EXPECT_EQ(v.summary.open_runs[0].run, w.run_id());
  EXPECT_EQ(v.summary.open_runs[0].first_line, 1u);
  EXPECT_EQ(v.summary.lines, 32u);
}

TEST(AuditVerify, RefusesOtherVersionsAndGarbage) {
  auto p = verify_text("hello\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what.rfind("line 1 is not an audit line: not JSON", 0), 0u) << p->what;
  p = verify_text(std::string(70000, 'x') + "\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what, "line 1 is not an audit line: longer than 64 KiB");
  // v = 2, re-hashed so that only the version is wrong.
  sample s;
  std::string v2 = s.text;
  v2.replace(0, 6, "{\"v\":2");
  p = verify_text(rehash_chain(v2));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what, "line 1 is not an audit line: \"v\" is 2, this verifier reads version 1");
}

}  // namespace
