// SPDX-License-Identifier: BSL-1.0
// Users file, duplicate filter and shards (velt_gdpr_core, no network).
#include "cli_support.hpp"

#include "core/seen_ids.hpp"
#include "core/shard.hpp"
#include "core/users_source.hpp"

#include <algorithm>

namespace velt::test::cli {
namespace {

using velt::gdpr::parse_user_line;

std::vector<std::string> read_all(velt::gdpr::users_source& src) {
  std::vector<std::string> out;
  while (auto e = src.next()) {
    EXPECT_FALSE(e->problem) << *e->problem;
    out.push_back(e->id);
  }
  return out;
}

TEST(UsersLine, TrimsAndSkipsBlankAndComments) {
  EXPECT_EQ(parse_user_line("alice"), "alice");
  EXPECT_EQ(parse_user_line("  alice \t\r"), "alice");
  EXPECT_EQ(parse_user_line("alice smith"), "alice smith");  // inner spaces kept
  EXPECT_EQ(parse_user_line("a#b"), "a#b");                 // '#' only starts a comment at the start
  EXPECT_FALSE(parse_user_line(""));
  EXPECT_FALSE(parse_user_line(" \t \r"));
  EXPECT_FALSE(parse_user_line("# a comment"));
  EXPECT_FALSE(parse_user_line("   # indented comment"));
}

TEST(UsersSource, ReadsEdgeCasesOnceEach) {
  temp_dir dir;
  write_text(dir / "u.txt",
             "# header\n"
             "user-1\n"
             "\n"
             "   user-2   \r\n"
             "user-3\r\n"
             "user-1\n"
             "\t# indented comment\n"
             "user with space  \n"
             "\xC3\xBC-unicode\n"
             "user-4");  // no final newline
  velt::gdpr::users_options o;
  o.ids = {"user-2", "cli-user"};
  o.file = (dir / "u.txt").string();
  velt::gdpr::users_source src(o);
  EXPECT_EQ(read_all(src), (std::vector<std::string>{"user-2", "cli-user", "user-1", "user-3",
                                                      "user with space", "\xC3\xBC-unicode", "user-4"}));
  EXPECT_EQ(src.counts().duplicates, 2u);
  // The count meets every id, duplicates included; the reader skips the duplicates.
  EXPECT_EQ(velt::gdpr::users_source::count(o), 9u);
  EXPECT_EQ(src.duplicates_met(), 2u);
}

TEST(UsersSource, ReportsOverlongIdsInsteadOfDroppingThem) {
  temp_dir dir;
  write_text(dir / "u.txt", "a\n" + std::string(10000, 'x') + "\nb\n");
  velt::gdpr::users_options o;
  o.file = (dir / "u.txt").string();
  o.max_id_bytes = 4096;
  velt::gdpr::users_source src(o);
  auto a = src.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, "a");
  auto big = src.next();
  ASSERT_TRUE(big);
  ASSERT_TRUE(big->problem);
  EXPECT_NE(big->problem->find("longer than 4096"), std::string::npos);
  auto b = src.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, "b");
  EXPECT_FALSE(src.next());
}

TEST(UsersSource, WhitespaceAroundAnIdNeverCountsAgainstTheLimit) {
  // Found by fuzz_users_file: an id after more than max_id_bytes + 64 spaces was dropped,
  // and a short id followed by many spaces was reported as too long.
  temp_dir dir;
  write_text(dir / "u.txt", std::string(5000, ' ') + "padded-before\n" + "padded-after" +
                                std::string(5000, ' ') + "\r\n" + std::string(5000, '\t') +
                                std::string(10000, 'x') + "\n");
  velt::gdpr::users_options o;
  o.file = (dir / "u.txt").string();
  o.max_id_bytes = 4096;
  velt::gdpr::users_source src(o);
  auto before = src.next();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->id, "padded-before");
  EXPECT_FALSE(before->problem);
  auto after = src.next();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->id, "padded-after");
  EXPECT_FALSE(after->problem);
  auto big = src.next();
  ASSERT_TRUE(big);
  EXPECT_TRUE(big->problem);  // reported, not dropped, whatever whitespace comes first
  EXPECT_FALSE(src.next());
}

TEST(UsersSource, MissingFileIsAUsageError) {
  velt::gdpr::users_options o;
  o.file = "/nonexistent/users.txt";
  EXPECT_THROW(velt::gdpr::users_source{o}, velt::gdpr::users_file_error);
}

TEST(UsersSource, LargeFileStreamsWithBoundedMemory) {
  temp_dir dir;
  {
    std::ofstream out(dir / "big.txt");
    for (int i = 0; i < 200000; ++i) out << "user-" << i << "\n" << "user-" << (i / 2) << "\n";
  }
  velt::gdpr::users_options o;
  o.file = (dir / "big.txt").string();
  velt::gdpr::users_source src(o);
  std::size_t n = 0;
  while (src.next()) ++n;
  EXPECT_EQ(n, 200000u);
  EXPECT_EQ(src.counts().duplicates, 200000u);
}

TEST(SeenIds, ExactForDistinctIdsAndGrows) {
  velt::gdpr::seen_ids s;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(s.insert("id-" + std::to_string(i)));
  for (int i = 0; i < 100000; ++i) ASSERT_FALSE(s.insert("id-" + std::to_string(i)));
  EXPECT_EQ(s.size(), 100000u);
  EXPECT_TRUE(s.contains("id-42"));
  EXPECT_FALSE(s.contains("id-100000"));
  EXPECT_LE(s.memory_bytes(), 131072u * 16u);  // 16 bytes a slot, at most 85% full
  EXPECT_NE(velt::gdpr::digest_of("a"), velt::gdpr::digest_of("b"));
}

TEST(SeenIds, ReserveSizesTheTableOnce) {
  velt::gdpr::seen_ids s;
  s.reserve(100000);
  EXPECT_EQ(s.memory_bytes(), 131072u * 16u);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(s.insert("id-" + std::to_string(i)));
  EXPECT_EQ(s.memory_bytes(), 131072u * 16u);  // no growth on the way
  s.reserve(10);                                // never shrinks
  EXPECT_EQ(s.memory_bytes(), 131072u * 16u);
  EXPECT_FALSE(s.insert("id-99999"));
  velt::gdpr::seen_ids capped;
  capped.reserve(std::size_t{1} << 40);  // an absurd estimate costs at most the cap
  EXPECT_LE(capped.memory_bytes(), 2 * velt::gdpr::seen_ids::max_reserve_ids * 16);
}

TEST(UsersSource, SizesTheDuplicateFilterFromTheFileOnce) {
  temp_dir dir;
  {
    std::ofstream out(dir / "u.txt");
    for (int i = 0; i < 100000; ++i) out << "user-" << i << "\n";
  }
  velt::gdpr::users_options o;
  o.file = (dir / "u.txt").string();
  velt::gdpr::users_source src(o);
  ASSERT_TRUE(src.next());
  EXPECT_EQ(src.filter_bytes(), 131072u * 16u);  // estimated from the first 64 KiB
  std::size_t n = 1;
  while (src.next()) ++n;
  EXPECT_EQ(n, 100000u);
  EXPECT_EQ(src.filter_bytes(), 131072u * 16u);
  // A shard's filter is sized for the shard's share of the file.
  o.shard = velt::gdpr::shard_spec{0, 4};
  velt::gdpr::users_source quarter(o);
  ASSERT_TRUE(quarter.next());
  EXPECT_EQ(quarter.filter_bytes(), 32768u * 16u);
  std::size_t in_shard = 1;
  while (quarter.next()) ++in_shard;
  EXPECT_NEAR(static_cast<double>(in_shard), 25000.0, 1500.0);
  EXPECT_LE(quarter.filter_bytes(), 32768u * 16u);
}

TEST(Shard, Fnv1a64KnownVectors) {
  EXPECT_EQ(velt::gdpr::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(velt::gdpr::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(velt::gdpr::fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Shard, ParsesAndPartitions) {
  auto const s = velt::gdpr::parse_shard("2/5");
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.to_string(), "2/5");
  for (char const* bad : {"", "5", "5/5", "1/0", "-1/3", "a/3", "1/3x", "1 /3"}) {
    EXPECT_THROW(velt::gdpr::parse_shard(bad), std::invalid_argument) << bad;
  }
  // Every id lands in exactly one of N shards.
  for (int i = 0; i < 1000; ++i) {
    std::string const id = "user-" + std::to_string(i);
    int hits = 0;
    for (std::uint64_t k = 0; k < 7; ++k) hits += velt::gdpr::shard_spec{k, 7}.contains(id) ? 1 : 0;
    EXPECT_EQ(hits, 1) << id;
  }
  EXPECT_TRUE(velt::gdpr::shard_spec{}.contains("anyone"));
}

}  // namespace
}  // namespace velt::test::cli
