// SPDX-License-Identifier: BSL-1.0
// The id -> file name encoding (velt_gdpr_core, no network).
#include "cli_support.hpp"

#include "core/file_name.hpp"

namespace velt::test::cli {
namespace {

using velt::gdpr::encode_user_id;
using velt::gdpr::export_file_name;

TEST(FileName, KeepsSafeBytesAndEncodesTheRest) {
  EXPECT_EQ(encode_user_id("user-0001"), "user-0001");
  EXPECT_EQ(encode_user_id("A.b_c-9"), "A.b_c-9");
  EXPECT_EQ(encode_user_id("a/b"), "a%2Fb");
  EXPECT_EQ(encode_user_id("user with space"), "user%20with%20space");
  EXPECT_EQ(encode_user_id("100%"), "100%25");
  EXPECT_EQ(encode_user_id("~tilde"), "%7Etilde");
  EXPECT_EQ(encode_user_id("\xC3\xBC"), "%C3%BC");          // UTF-8 bytes, upper-case hex
  EXPECT_EQ(encode_user_id(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(export_file_name("x"), "x.json");
}

TEST(FileName, NoHiddenOrSpecialNames) {
  EXPECT_EQ(encode_user_id("."), "%2E");
  EXPECT_EQ(encode_user_id(".."), "%2E.");
  EXPECT_EQ(encode_user_id("../x"), "%2E.%2Fx");
  EXPECT_EQ(encode_user_id(".hidden"), "%2Ehidden");
  EXPECT_EQ(encode_user_id("a.b."), "a.b.");
  for (std::string id : {".", "..", "../x", "a/b", "/", "//", "\\", ".json"}) {
    std::string const name = export_file_name(id);
    EXPECT_EQ(name.find('/'), std::string::npos) << id;
    EXPECT_NE(name.front(), '.') << id;
    EXPECT_NE(name, ".");
    EXPECT_NE(name, "..");
  }
  EXPECT_THROW(encode_user_id(""), std::invalid_argument);
}

TEST(FileName, LongIdsAreShortenedWithAHash) {
  std::string const long_id(300, 'x');
  std::string const name = encode_user_id(long_id);
  EXPECT_EQ(name.size(), 200u + 1u + 32u);
  EXPECT_EQ(name.substr(0, 200), std::string(200, 'x'));
  EXPECT_EQ(name[200], '~');
  EXPECT_LE(export_file_name(long_id).size(), 255u);
  // Another long id with the same prefix gets another name; a short id never has '~'.
  EXPECT_NE(encode_user_id(std::string(300, 'x') + "y"), name);
  EXPECT_EQ(encode_user_id(std::string(200, 'x')), std::string(200, 'x'));
  // Never cut inside a %XX triple.
  std::string const unicode = [] {
    std::string s;
    for (int i = 0; i < 100; ++i) s += "\xC3\xBC";
    return s;
  }();
  std::string const u = encode_user_id(unicode);
  auto const cut = u.find('~');
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(cut % 3, 0u);
  EXPECT_LE(cut, 200u);
}

TEST(FileName, IsOneToOneOnASample) {
  std::set<std::string> names;
  std::vector<std::string> ids = {"a", "A", "a b", "a%20b", "a/b", "a%2Fb", ".a", "%2Ea", "..", "%2E.", "~", "%7E"};
  for (int c = 0; c < 256; ++c) ids.push_back(std::string(1, static_cast<char>(c)));
  for (auto const& id : ids) names.insert(encode_user_id(id));
  EXPECT_EQ(names.size(), std::set<std::string>(ids.begin(), ids.end()).size());
}

}  // namespace
}  // namespace velt::test::cli
