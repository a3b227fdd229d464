// SPDX-License-Identifier: BSL-1.0
// velt::user_data_page and the request/response structs.
#include <velt/model.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

boost::json::object sample_data() {
  return boost::json::parse(R"({
    "comments": [{"annotationId":"a1"},{"annotationId":"a2"},{"annotationId":"a3"}],
    "reactions": [],
    "userProfiles": [{"userId":"u1"},{"userId":"u2"}]
  })").as_object();
}

TEST(ModelUserDataPage, KnownFeaturesAndMissingOnes) {
  velt::user_data_page const page(sample_data(), std::string("tok"), 4);
  EXPECT_EQ(page.comments().size(), 3u);
  EXPECT_EQ(page.comments()[1].at("annotationId"), "a2");
  EXPECT_TRUE(page.reactions().empty());
  // Missing keys give an empty array, the same static one each time.
  EXPECT_TRUE(page.recordings().empty());
  EXPECT_TRUE(page.notifications().empty());
  EXPECT_EQ(&page.recordings(), &page.notifications());
  EXPECT_EQ(&page.feature("nope"), &page.recordings());
  EXPECT_FALSE(page.data().contains("recordings"));  // nothing inserted
  // Unknown features by name.
  EXPECT_EQ(page.feature("userProfiles").size(), 2u);
  EXPECT_EQ(page.index(), 4u);
  ASSERT_TRUE(page.next_page_token().has_value());
  EXPECT_EQ(*page.next_page_token(), "tok");
  EXPECT_FALSE(page.is_last());
}

TEST(ModelUserDataPage, ItemCountAddsAllArrays) {
  velt::user_data_page const page(sample_data(), std::nullopt);
  EXPECT_EQ(page.item_count(), 5u);  // 3 comments + 0 reactions + 2 unknown
  EXPECT_TRUE(page.is_last());
  EXPECT_EQ(velt::user_data_page().item_count(), 0u);
}

TEST(ModelUserDataPage, NonArrayMemberIsNotAFeature) {
  auto data = sample_data();
  data["comments"] = "not an array";
  data["nextPageToken"] = "x";
  velt::user_data_page const page(std::move(data), std::nullopt);
  EXPECT_TRUE(page.comments().empty());
  EXPECT_EQ(page.item_count(), 2u);
}

TEST(ModelUserDataPage, EmptyTokenMeansLastPage) {
  velt::user_data_page const page(sample_data(), std::string());
  EXPECT_TRUE(page.is_last());
  EXPECT_FALSE(page.next_page_token().has_value());
}

TEST(ModelUserDataPage, EmptyPageWithTokenIsNotLast) {
  velt::user_data_page const page(boost::json::object{}, std::string("more"));
  EXPECT_EQ(page.item_count(), 0u);
  EXPECT_FALSE(page.is_last());
}

TEST(ModelUserDataPage, ReleaseDataMovesOut) {
  velt::user_data_page page(sample_data(), std::string("t"));
  boost::json::object const data = page.release_data();
  EXPECT_EQ(data.size(), 3u);
  EXPECT_EQ(data.at("comments").as_array().size(), 3u);
  EXPECT_TRUE(page.data().empty());
  EXPECT_TRUE(page.comments().empty());
  EXPECT_EQ(page.item_count(), 0u);
  EXPECT_EQ(page.next_page_token(), std::optional<std::string>("t"));  // token untouched
}

TEST(ModelUserDataPage, SetIndex) {
  velt::user_data_page page;
  EXPECT_EQ(page.index(), 0u);
  page.set_index(7);
  EXPECT_EQ(page.index(), 7u);
  EXPECT_TRUE(page.is_last());
}

TEST(ModelKnownFeatures, TheFourDocumentedOnes) {
  std::vector<std::string> names(std::begin(velt::known_features), std::end(velt::known_features));
  EXPECT_EQ(names, (std::vector<std::string>{"comments", "reactions", "recordings",
                                             "notifications"}));
}

TEST(ModelStructs, Defaults) {
  velt::user_data_request const r;
  EXPECT_FALSE(r.page_token.has_value());
  velt::delete_status const s;
  EXPECT_FALSE(s.is_delete_completed);
  EXPECT_EQ(s.tasks_left, 0);
  EXPECT_FALSE(s.last_task_completed_time.has_value());
  velt::delete_job const j;
  EXPECT_FALSE(j.tasks_count.has_value());
}

}  // namespace
