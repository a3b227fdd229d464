// SPDX-License-Identifier: BSL-1.0
// export_writer: file content, spooling, checkpoint and resume (velt_gdpr_core, files only).
#include "cli_support.hpp"

#include "core/atomic_file.hpp"
#include "core/export_check.hpp"
#include "core/export_writer.hpp"

#include <boost/json/parse.hpp>

#include <cmath>
#include <cstring>

namespace velt::test::cli {
namespace {

namespace json = boost::json;
using velt::gdpr::export_paths;
using velt::gdpr::export_writer;

json::object page(json::string_view text) { return velt::wire::parse_json(text)->as_object(); }

std::vector<json::object> four_pages() {
  return {
      page(R"({"comments":[{"id":1},{"id":2}],"reactions":[{"r":1}],"recordings":[],"notifications":[]})"),
      page(R"({"comments":[{"id":3}],"reactions":[],"userProfiles":[{"p":"x"}]})"),
      page(R"({"comments":[],"reactions":[],"recordings":[],"notifications":[]})"),  // an empty page mid-way
      page(R"({"comments":[{"id":4,"t":"\u00fc\ud83d\ude00"}],"reactions":[{"r":2}],"nextPageToken":"stray"})"),
  };
}

std::string export_in_one_go(fs::path const& out, std::vector<json::object> const& pages) {
  velt::gdpr::make_private_directories(out / "users");
  export_writer w(export_paths(out), "org-1", "user/1", 1 << 20);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    std::optional<std::string> next;
    if (i + 1 < pages.size()) next = "token-" + std::to_string(i + 1);
    w.add_page(pages[i], next);
  }
  w.finish("2026-11-26T10:00:00Z");
  return read_text(w.final_path());
}

TEST(ExportWriter, WritesTheDocumentedFile) {
  temp_dir dir;
  std::string const text = export_in_one_go(dir.path(), four_pages());
  EXPECT_EQ(text,
            R"({"organizationId":"org-1","userId":"user/1","exportedAt":"2026-11-26T10:00:00Z","pages":4,)"
            R"("data":{"comments":[{"id":1},{"id":2},{"id":3},{"id":4,"t":")"
            "\xC3\xBC\xF0\x9F\x98\x80"
            R"("}],"reactions":[{"r":1},{"r":2}],"recordings":[],"notifications":[],"userProfiles":[{"p":"x"}]}})"
            "\n");
  auto const doc = velt::wire::parse_json(text)->as_object();
  auto const& data = doc.at("data").as_object();
  EXPECT_EQ(doc.at("pages"), 4);
  EXPECT_EQ(data.at("comments").as_array().size(), 4u);
  EXPECT_EQ(data.at("comments").as_array()[3].at("t"), "\xC3\xBC\xF0\x9F\x98\x80");
  EXPECT_EQ(data.at("reactions").as_array().size(), 2u);
  EXPECT_EQ(data.at("userProfiles").as_array().size(), 1u);
  EXPECT_FALSE(data.contains("nextPageToken"));  // paging metadata, not a feature
  std::vector<std::string> keys;
  for (auto const& m : data) keys.emplace_back(m.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"comments", "reactions", "recordings", "notifications", "userProfiles"}));
  EXPECT_EQ(mode_of(dir / "users" / "user%2F1.json"), 0600u);
  EXPECT_EQ(mode_of(dir / "users"), 0700u);
  EXPECT_FALSE(fs::exists(dir / ".partial" / "user%2F1"));
}

TEST(ExportWriter, KnownFeaturesAlwaysPresent) {
  temp_dir dir;
  velt::gdpr::make_private_directories(dir / "users");
  export_writer w(export_paths(dir.path()), "o", "u");
  w.add_page(page(R"({"custom":[1]})"), std::nullopt);
  w.finish("2026-11-26T10:00:00Z");
  auto const doc = velt::wire::parse_json(read_text(w.final_path()))->as_object();
  auto const& data = doc.at("data").as_object();
  for (char const* k : {"comments", "reactions", "recordings", "notifications", "custom"}) {
    EXPECT_TRUE(data.contains(k)) << k;
  }
  EXPECT_EQ(data.begin()->key(), "custom");  // the server's own order first
}

TEST(ExportWriter, NumbersComeOutWithTheSameValue) {
  temp_dir dir;
  velt::gdpr::make_private_directories(dir / "users");
  std::string const body =
      R"({"comments":[{"a":0.1,"b":1e300,"c":5e-324,"d":1748972106739,"e":-0.0,"f":18446744073709551615,)"
      R"("g":-9223372036854775808,"h":0.30000000000000004,"i":2.2250738585072014e-308,"j":123456789.12345679}]})";
  auto const original = page(body);
  export_writer w(export_paths(dir.path()), "o", "u");
  w.add_page(original, std::nullopt);
  w.finish("2026-11-26T10:00:00Z");
  auto const doc = velt::wire::parse_json(read_text(w.final_path()))->as_object();
  auto const& got = doc.at("data").at("comments").as_array()[0].as_object();
  auto const& want = original.at("comments").as_array()[0].as_object();
  for (auto const& m : want) {
    auto const& g = got.at(m.key());
    ASSERT_EQ(g.kind(), m.value().kind()) << m.key();
    if (g.is_double()) {
      double const a = g.get_double(), b = m.value().get_double();
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << m.key() << ": " << a << " vs " << b;
    } else {
      EXPECT_EQ(g, m.value()) << m.key();
    }
  }
}

TEST(ExportWriter, ResumeAfterACrashGivesTheSameBytes) {
  temp_dir one_go, crashed;
  auto const pages = four_pages();
  std::string const want = export_in_one_go(one_go.path(), pages);

  velt::gdpr::make_private_directories(crashed / "users");
  {
    // Spill after every page (tiny buffer), checkpoint after page 2, then page 3 is written
    // to the spool but not recorded; then the process "dies".
    export_writer w(export_paths(crashed.path()), "org-1", "user/1", 1);
    w.add_page(pages[0], "token-1");
    w.add_page(pages[1], "token-2");
    w.checkpoint();
    w.add_page(pages[2], "token-3");
    EXPECT_EQ(w.unsaved_pages(), 1u);
  }
  EXPECT_TRUE(fs::exists(crashed / ".partial" / "user%2F1" / "journal.json"));
  EXPECT_EQ(mode_of(crashed / ".partial" / "user%2F1" / "journal.json"), 0600u);
  export_writer w(export_paths(crashed.path()), "org-1", "user/1", 1);
  auto token = w.resume();
  ASSERT_TRUE(token);
  EXPECT_EQ(*token, "token-2");
  EXPECT_EQ(w.pages(), 2u);
  EXPECT_EQ(w.resumed_pages(), 2u);
  w.add_page(pages[2], "token-3");
  w.add_page(pages[3], std::nullopt);
  w.finish("2026-11-26T10:00:00Z");
  EXPECT_EQ(read_text(w.final_path()), want);
  EXPECT_FALSE(fs::exists(crashed / ".partial" / "user%2F1"));
}

TEST(ExportWriter, ResumeIgnoresAJournalOfAnotherUserOrATornSpool) {
  temp_dir dir;
  velt::gdpr::make_private_directories(dir / "users");
  {
    export_writer w(export_paths(dir.path()), "org-1", "u", 1);
    w.add_page(page(R"({"comments":[{"id":1}]})"), "t1");
    w.checkpoint();
  }
  {
    export_writer other_org(export_paths(dir.path()), "org-2", "u", 1);
    EXPECT_FALSE(other_org.resume());  // another organization: start over, leftovers removed
    EXPECT_FALSE(fs::exists(dir / ".partial" / "u"));
  }
  {
    export_writer w(export_paths(dir.path()), "org-1", "u", 1);
    w.add_page(page(R"({"comments":[{"id":1}]})"), "t1");
    w.checkpoint();
  }
  fs::resize_file(dir / ".partial" / "u" / "0", 3);  // shorter than recorded
  export_writer torn(export_paths(dir.path()), "org-1", "u", 1);
  EXPECT_FALSE(torn.resume());
  EXPECT_EQ(torn.pages(), 0u);
}

TEST(ExportCheck, FindsEveryKindOfDifference) {
  temp_dir dir;
  velt::gdpr::make_private_directories(dir / "users");
  export_writer w(export_paths(dir.path()), "org-1", "u1");
  w.add_page(page(R"({"comments":[{"n":1},{"x":0.5}],"custom":[true]})"), "t");
  w.add_page(page(R"({"comments":[{"n":2}]})"), std::nullopt);
  w.finish("2026-11-26T10:00:00Z");
  velt::gdpr::expected_export want{"org-1", "u1", 2, page(R"({"comments":[{"n":1},{"x":0.5},{"n":2}],"custom":[true]})")};
  EXPECT_FALSE(velt::gdpr::check_export_file(w.final_path(), want));
  auto differs = [&](auto change) {
    auto copy = want;
    change(copy);
    return velt::gdpr::check_export_file(w.final_path(), copy).has_value();
  };
  EXPECT_TRUE(differs([](auto& e) { e.pages = 3; }));
  EXPECT_TRUE(differs([](auto& e) { e.user_id = "u2"; }));
  EXPECT_TRUE(differs([](auto& e) { e.organization_id = "org-2"; }));
  EXPECT_TRUE(differs([](auto& e) { e.data = page(R"({"comments":[{"n":1},{"x":0.5},{"n":2}]})"); }));
  EXPECT_TRUE(differs([](auto& e) { e.data = page(R"({"comments":[{"n":1},{"x":0.5},{"n":2.0}],"custom":[true]})"); }));
  EXPECT_TRUE(differs([](auto& e) { e.data = page(R"({"comments":[{"n":1},{"n":2},{"x":0.5}],"custom":[true]})"); }));
  EXPECT_TRUE(differs([](auto& e) { e.data = page(R"({"custom":[true],"comments":[{"n":1},{"x":0.5},{"n":2}]})"); }));
  EXPECT_TRUE(velt::gdpr::check_export_file(dir / "users" / "missing.json", want).has_value());
}

TEST(AtomicFile, NothingVisibleUntilCommitAndReplaces) {
  temp_dir dir;
  {
    velt::gdpr::atomic_file f(dir.path(), "a.json");
    f.write("partial");
    EXPECT_TRUE(files_in(dir.path()).empty());  // not even a temporary name
  }
  EXPECT_TRUE(files_in(dir.path()).empty());  // abandoned: gone
  velt::gdpr::write_file_atomically(dir / "a.json", "one");
  velt::gdpr::write_file_atomically(dir / "a.json", "two");
  EXPECT_EQ(read_text(dir / "a.json"), "two");
  EXPECT_EQ(files_in(dir.path()).size(), 1u);
  EXPECT_EQ(mode_of(dir / "a.json"), 0600u);
}

}  // namespace
}  // namespace velt::test::cli

namespace velt::test::cli {
namespace {

// Raw pages as the exporter gets them, compact and not, written through without a DOM.
velt::user_data_page raw_page(std::string_view data, std::optional<std::string> const& token) {
  std::string body = R"({"result":{)";
  if (token) body += R"("nextPageToken":")" + *token + R"(",)";
  body += R"("data":)" + std::string(data) + "}}";
  auto p = velt::wire::decode_user_data_raw({200, body, {}, "application/json"});
  EXPECT_TRUE(p) << p.error().message;
  return std::move(p).value();
}

std::string export_raw(fs::path const& out, std::vector<std::string> const& pages,
                       velt::gdpr::held_bytes_budget* shared, std::size_t spill_bytes,
                       bool* spooled) {
  velt::gdpr::make_private_directories(out / "users");
  export_writer w(export_paths(out), "org-1", "user/1", spill_bytes, shared);
  *spooled = false;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    std::optional<std::string> next;
    if (i + 1 < pages.size()) next = "token-" + std::to_string(i + 1);
    w.add_page(raw_page(pages[i], next));
    if (fs::exists(out / ".partial")) *spooled = true;
  }
  w.finish("2026-11-26T10:00:00Z");
  return read_text(w.final_path());
}

TEST(ExportWriter, RawPagesGiveTheSameFileAsParsedOnesWhateverTheSpooling) {
  std::vector<std::string> const pages = {
      R"({"comments":[{"id":1},{"id":2}],"reactions":[{"r":1}],"recordings":[],"notifications":[]})",
      R"({"comments":[ { "id" : 3 } ],"reactions":[],"userProfiles":[{"p":"x y"}]})",  // not compact
      R"({"comments":[],"reactions":[],"recordings":[],"notifications":[]})",
      R"({"comments":[{"id":4,"t":"\u00fc\ud83d\ude00"}],"reactions":[{"r":2}],"nextPageToken":"stray"})",
  };
  std::string expected;
  {
    temp_dir dir;
    std::vector<json::object> parsed;
    for (auto const& p : pages) parsed.push_back(page(p));
    expected = export_in_one_go(dir.path(), parsed);
  }
  // The parsed writer re-serializes "\u00fc\ud83d\ude00" as UTF-8; the raw one keeps the
  // server's escapes. Compare values, and the bytes of everything else.
  auto same_values = [&](std::string const& text) {
    return velt::wire::parse_json(text).value() == velt::wire::parse_json(expected).value();
  };
  for (std::size_t spill : {std::size_t{1}, std::size_t{1} << 20}) {
    for (std::size_t cap : {std::size_t{0}, std::size_t{64} << 20}) {
      temp_dir dir;
      velt::gdpr::held_bytes_budget shared(cap);
      bool spooled = false;
      std::string const text = export_raw(dir.path(), pages, &shared, spill, &spooled);
      EXPECT_TRUE(same_values(text)) << text;
      EXPECT_EQ(shared.held.load(), 0u) << "every held byte is given back";
      // Spooled only when the page went past its own bound with the shared budget spent.
      EXPECT_EQ(spooled, spill == 1 && cap == 0) << "spill " << spill << " cap " << cap;
    }
  }
}

}  // namespace
}  // namespace velt::test::cli
