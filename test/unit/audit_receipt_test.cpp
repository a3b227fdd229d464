// SPDX-License-Identifier: BSL-1.0
// AuditReceipt: canonical erasure receipts and their raw signatures (design note §6).
#include "audit_test_support.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

namespace {

using namespace velt::audit;
using namespace velt::audit::test;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::system_clock;

erasure_receipt sample_receipt() {
  erasure_receipt r;
  r.user_id = "alice@example.com";
  r.organization_ids = {"org-1", "org-2"};
  r.job_id = "dsQuvPmIynANgPLLEhCm";
  r.requested_at = system_clock::time_point(milliseconds(1796525400120));  // 2026-12-06T02:50:00.120Z
  r.completed_at = system_clock::time_point(milliseconds(1796525520007));
  r.last_task_completed_time = 1796525519000;
  r.verified_at = system_clock::time_point(milliseconds(1796525526311));
  r.pages = 1;
  r.run = "9f1c2a0b3d4e5f60718293a4b5c6d7e8";
  r.tool_version = "0.1.0";
  return r;
}

TEST(AuditReceipt, CanonicalBytesAndAnyByteChangeFails) {
  auto const key = signing_key::generate();
  auto const fp = key.public_key().fingerprint();
  auto const s = sign_receipt(sample_receipt(), key);
  EXPECT_EQ(s.json,
            "{\"v\":1,\"kind\":\"erasure-receipt\",\"userId\":\"alice@example.com\",\"organizationIds\":[\"org-1\","
            "\"org-2\"],\"jobId\":\"dsQuvPmIynANgPLLEhCm\",\"requestedAt\":\"2026-12-06T02:50:00.120Z\","
            "\"completedAt\":\"2026-12-06T02:52:00.007Z\",\"lastTaskCompletedTime\":1796525519000,"
            "\"verifiedAt\":\"2026-12-06T02:52:06.311Z\",\"verification\":{\"pages\":1,\"items\":0},"
            "\"run\":\"9f1c2a0b3d4e5f60718293a4b5c6d7e8\",\"tool\":\"velt-gdpr\",\"toolVersion\":\"0.1.0\","
            "\"keySha256\":\"" + fp + "\"}\n");
  EXPECT_EQ(sign_receipt(sample_receipt(), key).signature, s.signature) << "deterministic";

  auto const good = verify_receipt(s.json, s.signature, key.public_key());
  ASSERT_TRUE(good.good) << good.what;
  EXPECT_EQ(good.what, "alice@example.com: erased (job dsQuvPmIynANgPLLEhCm, verified 2026-12-06T02:52:06.311Z, 1 page, "
                       "0 items); signature good (key " + fp.substr(0, 4) + "\u2026" + fp.substr(60) + ")");
  ASSERT_TRUE(good.receipt);
  EXPECT_EQ(good.receipt->verified_at, sample_receipt().verified_at);
  EXPECT_EQ(good.receipt->organization_ids, sample_receipt().organization_ids);

  for (std::size_t i = 0; i < s.json.size(); ++i) {
    std::string changed = s.json;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(verify_receipt(changed, s.signature, key.public_key()).good) << "json byte " << i;
  }
  for (std::size_t i = 0; i < s.signature.size(); ++i) {
    for (unsigned char bit : {0x01, 0x80}) {
      auto changed = s.signature;
      changed[i] ^= std::byte{bit};
      auto const v = verify_receipt(s.json, changed, key.public_key());
      EXPECT_FALSE(v.good) << "sig byte " << i;
      EXPECT_EQ(v.what, "the signature does not verify: the receipt or its signature was changed");
    }
  }
  EXPECT_FALSE(verify_receipt(s.json, std::span(s.signature).first(63), key.public_key()).good);
  EXPECT_FALSE(verify_receipt(s.json + "\n", s.signature, key.public_key()).good);

  auto const other = signing_key::generate();
  auto const wrong = verify_receipt(s.json, s.signature, other.public_key());
  EXPECT_FALSE(wrong.good);
  EXPECT_EQ(wrong.what, "signed by key " + fp + ", not by the given key " + other.public_key().fingerprint());

  // A receipt claiming remaining items is not one, even if correctly signed.
  std::string items = s.json;
  items.replace(items.find("\"items\":0"), 9, "\"items\":5");
  auto const items_sig = key.sign(items);
  auto const v = verify_receipt(items, items_sig, key.public_key());
  EXPECT_FALSE(v.good);
  EXPECT_EQ(v.what, "not a receipt of erasure: \"verification.items\" is not 0");
}

TEST(AuditReceipt, WriteReceiptPublishesBoth) {
  temp_dir dir;
  auto const key = signing_key::generate();
  auto const out = dir / "receipts";
  auto const s = sign_receipt(sample_receipt(), key);
  auto const json_file = write_receipt(out, "alice@example.com", s);
  EXPECT_EQ(json_file, out / "alice%40example.com.json");
  EXPECT_EQ(read_all(json_file), s.json);
  EXPECT_EQ(read_all(out / "alice%40example.com.json.sig"),
            std::string(reinterpret_cast<char const*>(s.signature.data()), 64));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(verify_receipt_file(json_file, key.public_key()).good);

  // A rerun replaces both.
  auto later = sample_receipt();
  later.pages = 2;
  auto const s2 = sign_receipt(later, key);
  write_receipt(out, "alice@example.com", s2);
  auto const v = verify_receipt_file(json_file, key.public_key());
  ASSERT_TRUE(v.good) << v.what;
  EXPECT_EQ(v.receipt->pages, 2u);
  // A .json with the old .sig (a crash between the two renames) fails.
  write_all(out / "x.json", s2.json);
  write_all(out / "x.json.sig", std::string(reinterpret_cast<char const*>(s.signature.data()), 64));
  EXPECT_FALSE(verify_receipt_file(out / "x.json", key.public_key()).good);
  EXPECT_THROW(verify_receipt_file(out / "missing.json", key.public_key()), error);

  if (fs::exists("/usr/bin/openssl")) {
    key.save(dir / "key.pem");
    std::string const cmd = "/usr/bin/openssl pkeyutl -verify -pubin -inkey '" + (dir / "key.pem.pub").string() +
                            "' -rawin -in '" + json_file.string() + "' -sigfile '" + json_file.string() + ".sig' >/dev/null 2>&1";
    int const status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd;
  }
}

}  // namespace
