// SPDX-License-Identifier: BSL-1.0
// velt::media::find_media and known_fields: every row of the list found at its place in
// Velt-shaped items, with exact JSON Pointers and policies.
#include <velt/media.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using velt::media::field_policy;
using velt::media::media_ref;

std::vector<std::string> const google = {"storage.googleapis.com", "firebasestorage.googleapis.com"};

boost::json::object parse(std::string_view text) { return boost::json::parse(text).as_object(); }

using row = std::tuple<std::string, std::size_t, std::string, std::string, std::string, field_policy>;

std::vector<row> rows_of(std::vector<media_ref> const& refs) {
  std::vector<row> out;
  for (auto const& r : refs) out.emplace_back(r.feature, r.item, r.pointer, r.url, r.rule, r.policy);
  return out;
}

TEST(MediaFind, KnownFieldsAtAnyDepth) {
  auto const data = parse(R"({
    "comments": [
      {"annotationId": "a0", "comments": []},
      {"annotationId": "a1",
       "from": {"userId": "me", "photoUrl": "https://storage.googleapis.com/p/me.png"},
       "comments": [
         {"commentId": 1, "commentText": "see https://example.org/not-media",
          "commentVoiceUrl": "https://storage.googleapis.com/v/1.webm",
          "attachments": [
            {"attachmentId": 7, "name": "shot.png", "mimeType": "image/png",
             "url": "https://storage.googleapis.com/a/shot.png",
             "thumbnailWithPlayIconUrl": "https://storage.googleapis.com/a/t.png",
             "thumbnail": "data:image/png;base64,iVBORw0KGgo=",
             "previewImages": ["https://storage.googleapis.com/a/p0.png", "", "https://other.example/p2.png"]}],
          "recorders": [
            {"videoUrl": "https://storage.googleapis.com/r/v.mp4", "audioUrl": "https://storage.googleapis.com/r/a.webm",
             "thumbnailUrl": "https://storage.googleapis.com/r/t.png",
             "thumbnailWithPlayIconUrl": "https://storage.googleapis.com/r/tp.png",
             "videoPlayerUrl": "https://app.velt.dev/play/1"}]}],
       "pageInfo": {"url": "https://app.example.com/doc?x=1"}}],
    "reactions": [{"iconUrl": "https://storage.googleapis.com/icons/1.svg", "icon": "x"}],
    "recordings": [
      {"attachments": [{"url": "https://storage.googleapis.com/rec/1.mp4", "mimeType": "video/mp4"}],
       "transcription": {"vttUrl": "https://storage.googleapis.com/t/1.vtt",
                         "srtUrl": "https://storage.googleapis.com/t/1.srt",
                         "vttFileUrl": "https://storage.googleapis.com/t/2.vtt",
                         "transcriptedText": "hello"}}]
  })");
  auto const refs = velt::media::find_media(data, "me", google);
  std::vector<row> const want = {
      {"comments", 1, "/from/photoUrl", "https://storage.googleapis.com/p/me.png", "field:User.photoUrl", field_policy::download},
      {"comments", 1, "/comments/0/commentVoiceUrl", "https://storage.googleapis.com/v/1.webm", "field:Comment.commentVoiceUrl", field_policy::download},
      {"comments", 1, "/comments/0/attachments/0/url", "https://storage.googleapis.com/a/shot.png", "field:Attachment.url", field_policy::download},
      {"comments", 1, "/comments/0/attachments/0/thumbnailWithPlayIconUrl", "https://storage.googleapis.com/a/t.png", "field:Attachment.thumbnailWithPlayIconUrl", field_policy::download},
      {"comments", 1, "/comments/0/attachments/0/thumbnail", "data:image/png;base64,iVBORw0KGgo=", "field:Attachment.thumbnail", field_policy::inline_data},
      {"comments", 1, "/comments/0/attachments/0/previewImages/0", "https://storage.googleapis.com/a/p0.png", "field:Attachment.previewImages", field_policy::download},
      {"comments", 1, "/comments/0/attachments/0/previewImages/2", "https://other.example/p2.png", "field:Attachment.previewImages", field_policy::download},
      {"comments", 1, "/comments/0/recorders/0/videoUrl", "https://storage.googleapis.com/r/v.mp4", "field:RecordedData.videoUrl", field_policy::download},
      {"comments", 1, "/comments/0/recorders/0/audioUrl", "https://storage.googleapis.com/r/a.webm", "field:RecordedData.audioUrl", field_policy::download},
      {"comments", 1, "/comments/0/recorders/0/thumbnailUrl", "https://storage.googleapis.com/r/t.png", "field:RecordedData.thumbnailUrl", field_policy::download},
      {"comments", 1, "/comments/0/recorders/0/thumbnailWithPlayIconUrl", "https://storage.googleapis.com/r/tp.png", "field:RecordedData.thumbnailWithPlayIconUrl", field_policy::download},
      {"comments", 1, "/comments/0/recorders/0/videoPlayerUrl", "https://app.velt.dev/play/1", "field:RecordedData.videoPlayerUrl", field_policy::link_only},
      {"reactions", 0, "/iconUrl", "https://storage.googleapis.com/icons/1.svg", "field:Reaction.iconUrl", field_policy::not_downloaded},
      {"recordings", 0, "/attachments/0/url", "https://storage.googleapis.com/rec/1.mp4", "field:Attachment.url", field_policy::download},
      {"recordings", 0, "/transcription/vttUrl", "https://storage.googleapis.com/t/1.vtt", "field:Transcription.vttUrl", field_policy::download},
      {"recordings", 0, "/transcription/srtUrl", "https://storage.googleapis.com/t/1.srt", "field:Transcription.srtUrl", field_policy::download},
      {"recordings", 0, "/transcription/vttFileUrl", "https://storage.googleapis.com/t/2.vtt", "field:Transcription.vttFileUrl", field_policy::download},
  };
  EXPECT_EQ(rows_of(refs), want);
  // Siblings name the file.
  auto const shot = std::find_if(refs.begin(), refs.end(), [](auto const& r) { return r.pointer == "/comments/0/attachments/0/url"; });
  ASSERT_NE(shot, refs.end());
  EXPECT_EQ(shot->name, "shot.png");
  EXPECT_EQ(shot->mime_type, "image/png");
  EXPECT_EQ(refs.front().name, std::nullopt);
  // Every row of the list is exercised by this item (but for none).
  std::set<std::string> seen;
  for (auto const& r : refs) seen.insert(r.rule);
  for (auto const& f : velt::media::known_fields()) {
    EXPECT_TRUE(seen.contains("field:" + std::string(f.model) + "." + std::string(f.key))) << f.model << "." << f.key;
  }
}

TEST(MediaFind, EveryRowHasItsSource) {
  auto const rows = velt::media::known_fields();
  ASSERT_GE(rows.size(), 14u);
  std::set<std::pair<std::string_view, std::string_view>> keys;
  for (auto const& r : rows) {
    EXPECT_FALSE(r.key.empty());
    EXPECT_FALSE(r.model.empty()) << r.key;
    EXPECT_FALSE(r.what.empty()) << r.key;
    EXPECT_FALSE(r.source.empty()) << r.key;
    EXPECT_TRUE(keys.emplace(r.parent, r.key).second) << "duplicate row " << r.parent << "/" << r.key;
  }
}

TEST(MediaFind, OtherUsersPhotoNotDownloaded) {
  auto const data = parse(R"({"comments": [{
      "from": {"userId": "me", "photoUrl": "https://storage.googleapis.com/p/me.png"},
      "to": [{"userId": "someone-else", "photoUrl": "https://storage.googleapis.com/p/other.png"},
             {"photoUrl": "https://storage.googleapis.com/p/anonymous.png"}],
      "assignedTo": {"userId": "ME", "photoUrl": "https://storage.googleapis.com/p/case.png"}}]})");
  auto const refs = velt::media::find_media(data, "me", google);
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].pointer, "/from/photoUrl");
  EXPECT_EQ(refs[0].policy, field_policy::download);
  EXPECT_EQ(refs[1].pointer, "/to/0/photoUrl");
  EXPECT_EQ(refs[1].policy, field_policy::not_downloaded);
  EXPECT_EQ(refs[1].rule, "field:User.photoUrl");  // not caught again by the host rule
  EXPECT_EQ(refs[2].pointer, "/to/1/photoUrl");     // no userId: not known to be the subject
  EXPECT_EQ(refs[2].policy, field_policy::not_downloaded);
  EXPECT_EQ(refs[3].policy, field_policy::not_downloaded);  // ids compare exactly
}

TEST(MediaFind, HostRuleCatchesUnknownFeature) {
  auto const data = parse(R"({
    "userProfiles": [{"banner": {"file": "https://Storage.GoogleAPIs.com/b/banner.jpg?X-Goog-Signature=abc"},
                      "links": ["https://storage.googleapis.com/x/1.pdf", "https://evil.example/1.pdf",
                                "http://storage.googleapis.com/x/plain.pdf"],
                      "text": "https://storage.googleapis.com/x/2.pdf"}],
    "odd": "https://firebasestorage.googleapis.com/v0/b/o/x.png",
    "recordings": [{"url": "https://storage.googleapis.com/x/top-level-url.mp4",
                    "pageInfo": {"url": "https://app.example.com/page"}}]
  })");
  auto const refs = velt::media::find_media(data, "me", google);
  std::vector<row> const want = {
      {"userProfiles", 0, "/banner/file", "https://Storage.GoogleAPIs.com/b/banner.jpg?X-Goog-Signature=abc", "host", field_policy::download},
      {"userProfiles", 0, "/links/0", "https://storage.googleapis.com/x/1.pdf", "host", field_policy::download},
      {"userProfiles", 0, "/text", "https://storage.googleapis.com/x/2.pdf", "host", field_policy::download},
      {"odd", 0, "", "https://firebasestorage.googleapis.com/v0/b/o/x.png", "host", field_policy::download},
      // `url` outside attachments is not a row; on an allowed host the host rule takes it.
      {"recordings", 0, "/url", "https://storage.googleapis.com/x/top-level-url.mp4", "host", field_policy::download},
  };
  EXPECT_EQ(rows_of(refs), want);
  // With no allowed host, only rows of the list are reported.
  EXPECT_TRUE(velt::media::find_media(data, "me", {}).empty());
}

TEST(MediaFind, PointersEscapeAndNonStringsAreSkipped) {
  auto const data = parse(R"({"a/b~c": [{"we/ird~key": {"x": "https://storage.googleapis.com/1"},
      "attachments": [{"url": null}, {"url": 42}, {"url": ""}, {"url": {"nested": "https://storage.googleapis.com/2"}}]}]})");
  auto const refs = velt::media::find_media(data, "me", google);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].feature, "a/b~c");
  EXPECT_EQ(refs[0].pointer, "/we~1ird~0key/x");
  EXPECT_EQ(refs[1].pointer, "/attachments/3/url/nested");
  EXPECT_EQ(refs[1].rule, "host");
}

TEST(MediaFind, PolicyNames) {
  EXPECT_EQ(velt::media::to_string(field_policy::download), "download");
  EXPECT_EQ(velt::media::to_string(field_policy::link_only), "link_only");
  EXPECT_EQ(velt::media::to_string(field_policy::not_downloaded), "not_downloaded");
  EXPECT_EQ(velt::media::to_string(field_policy::inline_data), "inline_data");
}

}  // namespace
