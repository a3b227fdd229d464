// SPDX-License-Identifier: BSL-1.0
// Exports over real TLS: a client that follows the tokens reconstructs exactly the ground
// truth; end-of-data forms; empty pages; determinism of the bytes.
#include "test_client.hpp"

#include "json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>

namespace velt::mock {
namespace {

using testing::get_body;
using testing::reply;
using testing::test_client;
using testing::walk_export;
namespace json = boost::json;

/// The ground truth as a parser sees it: the same number text goes through the same parser
/// as the pages, so the comparison is exact.
json::object expected_as_parsed(server const& srv, std::string const& user) {
  return json::parse(detail::to_json(srv.expected_export(user))).as_object();
}

TEST(MockExport, PaginationWalkReconstructsTheExpectedExport) {
  server_options o;
  o.data.users = 20;
  o.data.heavy_items = 600;
  o.data.extra_feature = true;
  o.data.unusual_user_ids = 8;
  server srv(o);
  auto const summaries = srv.user_summaries();
  ASSERT_EQ(summaries.size(), 28u);
  test_client c(srv);
  std::size_t multi_page = 0, empty_users = 0;
  for (auto const& s : summaries) {
    auto const w = walk_export(c, srv, s.user_id);
    EXPECT_EQ(w.bodies.size(), s.pages) << s.user_id;
    EXPECT_EQ(w.bodies.size(), srv.expected_pages(s.user_id)) << s.user_id;
    EXPECT_EQ(w.merged, expected_as_parsed(srv, s.user_id)) << s.user_id;
    EXPECT_EQ(w.end, to_string(s.end)) << s.user_id;
    EXPECT_EQ(w.merged.at("comments").as_array().size(), s.comments);
    EXPECT_EQ(w.merged.at("userProfiles").as_array().size(), 1u) << "the extra feature is kept";
    if (s.pages > 1) ++multi_page;
    if (s.items() == 0) ++empty_users;
    // Every page but the last carries full arrays for the features that have not run out.
    for (std::size_t i = 0; i < w.bodies.size(); ++i) {
      auto const data = json::parse(w.bodies[i]).at("result").at("data").as_object();
      for (auto const& [k, v] : data) EXPECT_LE(v.as_array().size(), 100u) << s.user_id << " " << k;
    }
  }
  EXPECT_GE(multi_page, 5u);
  EXPECT_EQ(empty_users, 2u);
  EXPECT_EQ(srv.stats().connections_accepted, 1u);
}

TEST(MockExport, HeavyUsersHaveThousandsOfItemsAndFeaturesRunOutAtDifferentPages) {
  server srv(server_options{});
  auto const summaries = srv.user_summaries();
  ASSERT_EQ(summaries.size(), 20u);
  auto const& heavy = summaries.back();
  EXPECT_TRUE(heavy.heavy);
  EXPECT_GE(heavy.items(), 4000u);
  EXPECT_GE(heavy.pages, 20u);
  EXPECT_NE(heavy.comments / 100, heavy.recordings / 100);
  test_client c(srv);
  // The last data page of recordings has fewer than 100, later pages none, comments still full.
  std::size_t const data_page = heavy.recordings / 100 + 1;  // no recordings left
  std::size_t const page = data_page + (heavy.empty_page && *heavy.empty_page <= data_page ? 1 : 0);
  auto const w = walk_export(c, srv, heavy.user_id);
  auto const data = json::parse(w.bodies.at(page)).at("result").at("data").as_object();
  EXPECT_TRUE(data.at("recordings").as_array().empty());
  EXPECT_EQ(data.at("comments").as_array().size(), 100u);
  std::size_t const full = json::parse(w.bodies.at(0)).at("result").at("data").as_object().size();
  EXPECT_EQ(full, 4u);
  EXPECT_GT(w.bodies.at(0).size(), 150u * 1024) << "a full page is hundreds of KiB";
  EXPECT_EQ(w.merged, expected_as_parsed(srv, heavy.user_id));
}

TEST(MockExport, OmittedExhaustedFeaturesAreStillReconstructed) {
  server_options o;
  o.data.users = 10;
  o.data.page_size = 30;
  o.data.omit_exhausted_features = true;
  server srv(o);
  test_client c(srv);
  bool saw_missing = false;
  for (auto const& s : srv.user_summaries()) {
    auto const w = walk_export(c, srv, s.user_id);
    EXPECT_EQ(w.merged, expected_as_parsed(srv, s.user_id)) << s.user_id;
    for (auto const& body : w.bodies) {
      if (json::parse(body).at("result").at("data").as_object().size() < 4) saw_missing = true;
    }
  }
  EXPECT_TRUE(saw_missing);
}

TEST(MockExport, EndOfDataForms) {
  for (auto const form : {end_of_data::absent, end_of_data::null, end_of_data::empty}) {
    server_options o;
    o.data.users = 4;
    o.data.end = form;
    server srv(o);
    test_client c(srv);
    for (auto const& id : srv.user_ids()) EXPECT_EQ(walk_export(c, srv, id).end, to_string(form)) << id;
    EXPECT_EQ(walk_export(c, srv, "unknown-user").end, to_string(form));
  }
  server_options o;
  o.data.users = 6;
  server mixed(o);
  test_client c(mixed);
  std::vector<std::string> ends;
  for (auto const& id : mixed.user_ids()) ends.push_back(walk_export(c, mixed, id).end);
  EXPECT_EQ(ends, (std::vector<std::string>{"absent", "null", "empty", "absent", "null", "empty"}));
}

TEST(MockExport, AnAllEmptyPageWithATokenIsNotTheEnd) {
  server_options o;
  o.data.users = 30;
  o.data.min_items = 120;
  server srv(o);
  test_client c(srv);
  bool middle = false, trailing = false;
  for (auto const& s : srv.user_summaries()) {
    if (!s.empty_page) continue;
    auto const w = walk_export(c, srv, s.user_id);
    auto const result = json::parse(w.bodies.at(*s.empty_page)).at("result").as_object();
    for (auto const& [k, v] : result.at("data").as_object()) EXPECT_TRUE(v.as_array().empty()) << k;
    bool const last = *s.empty_page + 1 == s.pages;
    auto const* token = result.if_contains("nextPageToken");
    if (last) {
      trailing = true;
    } else {
      middle = true;
      ASSERT_NE(token, nullptr);
      EXPECT_FALSE(token->as_string().empty());
    }
    EXPECT_EQ(w.merged, expected_as_parsed(srv, s.user_id));
  }
  EXPECT_TRUE(middle);
  EXPECT_TRUE(trailing);
}

TEST(MockExport, SameSeedSameBytes) {
  server_options o;
  o.data.users = 6;
  server a(o), b(o);
  o.data.seed = 2;
  server other(o);
  test_client ca(a), cb(b), co(other);
  std::size_t compared = 0;
  for (auto const& id : a.user_ids()) {
    auto const wa = walk_export(ca, a, id);
    auto const wb = walk_export(cb, b, id);
    ASSERT_EQ(wa.bodies.size(), wb.bodies.size());
    for (std::size_t i = 0; i < wa.bodies.size(); ++i) {
      EXPECT_EQ(wa.bodies[i], wb.bodies[i]) << id << " page " << i;
      EXPECT_EQ(wa.bodies[i], a.page_body(id, i));
      ++compared;
    }
  }
  EXPECT_GE(compared, 8u);
  EXPECT_NE(walk_export(ca, a, "user-0001").bodies.front(), walk_export(co, other, "user-0001").bodies.front());
}

TEST(MockExport, WritesTheWholeGroundTruth) {
  server_options o;
  o.data.users = 5;
  o.data.unusual_user_ids = 2;
  server srv(o);
  auto const file = std::filesystem::temp_directory_path() / ("velt-mock-expected-" + std::to_string(srv.port()) + ".json");
  srv.write_expected_export(file);
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(file);
  auto const truth = json::parse(text.str()).as_object();
  EXPECT_EQ(truth.at("organizationId"), "org-1");
  auto const& users = truth.at("users").as_object();
  EXPECT_EQ(users.size(), 7u);
  for (auto const& id : srv.user_ids()) EXPECT_EQ(users.at(id), expected_as_parsed(srv, id)) << id;
}

}  // namespace
}  // namespace velt::mock
