// SPDX-License-Identifier: BSL-1.0
// The mock as a media host: media users' items carry URLs on the server's own origin in the
// fields velt::media knows, `/media/ok/...` serves valid deterministic files, every media
// fault does what its path says, and existing data sets are unchanged byte for byte.
#include "test_client.hpp"

#include "json_writer.hpp"
#include "media_files.hpp"

#include <velt/media.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using detail::media_bytes;
using detail::parse_media_path;
using testing::reply;
using testing::request_options;
using testing::test_client;
namespace json = boost::json;

server_options media_options(std::size_t ok_users, std::size_t fault_users) {
  server_options o;
  o.data.users = 4;
  o.data.min_items = 2;
  o.data.max_items = 8;
  o.data.page_size = 3;
  o.data.media_users = ok_users;
  o.data.media_fault_users = fault_users;
  return o;
}

request_options no_credentials() {
  request_options o;
  o.api_key = false;
  o.auth_token = false;
  return o;
}

reply media_get(test_client& c, std::string_view target) { return c.request("GET", target, "", no_credentials()); }

/// The request target of a URL on the server's origin.
std::string target_of(server const& srv, std::string const& url) {
  EXPECT_TRUE(url.starts_with(srv.url() + "/")) << url;
  return url.substr(srv.url().size());
}

std::vector<std::string> allowed(server const& srv) { return {"127.0.0.1:" + std::to_string(srv.port())}; }

std::uint32_t be32(std::string const& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// A PNG's chunks with verified CRCs; its IDAT inflated to 16 rows of 1 + 16 * 3 bytes.
void expect_valid_png(std::string const& png) {
  ASSERT_GE(png.size(), 8u);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::vector<std::string> types;
  std::string idat;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    std::uint32_t const len = be32(png, at);
    ASSERT_LE(at + 12 + len, png.size());
    std::string const type_and_data = png.substr(at + 4, 4 + len);
    auto const crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<Bytef const*>(type_and_data.data()),
                           static_cast<uInt>(type_and_data.size()));
    EXPECT_EQ(be32(png, at + 8 + len), static_cast<std::uint32_t>(crc)) << type_and_data.substr(0, 4);
    types.push_back(type_and_data.substr(0, 4));
    if (types.back() == "IHDR") {
      EXPECT_EQ(be32(png, at + 8), 16u);
      EXPECT_EQ(be32(png, at + 12), 16u);
    }
    if (types.back() == "IDAT") idat += type_and_data.substr(4);
    at += 12 + len;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  uLongf raw_size = 16 * (1 + 16 * 3) + 1;
  std::string raw(raw_size, '\0');
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size, reinterpret_cast<Bytef const*>(idat.data()),
                       static_cast<uLong>(idat.size())),
            Z_OK);
  EXPECT_EQ(raw_size, 16u * (1 + 16 * 3));
}

TEST(MockMedia, ExistingDataSetsAreUnchanged) {
  EXPECT_EQ(data_profile{}.media_users, 0u);
  EXPECT_EQ(data_profile{}.media_fault_users, 0u);
  server_options base;
  base.data.users = 6;
  base.data.heavy_items = 250;
  base.data.unusual_user_ids = 8;
  base.data.extra_feature = true;
  server_options with_media = base;
  with_media.data.media_users = 3;
  with_media.data.media_fault_users = 2;
  server const before(base), after(with_media);
  auto const ids = before.user_ids();
  auto expected_ids = ids;
  for (auto const* id : {"media-0001", "media-0002", "media-0003", "media-fault-0001", "media-fault-0002"}) {
    expected_ids.emplace_back(id);
  }
  EXPECT_EQ(after.user_ids(), expected_ids);
  for (auto const& id : ids) {
    ASSERT_EQ(before.expected_pages(id), after.expected_pages(id)) << id;
    for (std::size_t p = 0; p < before.expected_pages(id); ++p) {
      EXPECT_EQ(before.page_body(id, p), after.page_body(id, p)) << id << " page " << p;
    }
  }
}

TEST(MockMedia, MediaUsersCarryUrlsOnTheServersOrigin) {
  server const srv(media_options(1, 1));
  auto const hosts = allowed(srv);
  {
    test_client c(srv);
    // As the other tests compare: the ground truth through the server's own JSON writer.
    EXPECT_EQ(testing::walk_export(c, srv, "media-0001").merged,
              json::parse(detail::to_json(srv.expected_export("media-0001"))).as_object());
  }
  auto const refs = media::find_media(srv.expected_export("media-0001"), "media-0001", hosts);
  std::map<std::string, std::size_t> by_rule;
  std::map<media::field_policy, std::size_t> photos;
  for (auto const& r : refs) {
    ++by_rule[r.rule];
    if (r.policy == media::field_policy::link_only) {
      EXPECT_TRUE(r.url.starts_with("https://app.example.com/")) << r.url;
      continue;
    }
    EXPECT_TRUE(r.url.starts_with(srv.url() + "/media/ok/")) << r.pointer << " " << r.url;
    EXPECT_EQ(media::check_url(r.url, hosts), std::nullopt) << r.url;
    if (r.rule == "field:User.photoUrl") ++photos[r.policy];
  }
  EXPECT_GT(photos[media::field_policy::download], 0u) << "the subject's own avatar";
  EXPECT_GT(photos[media::field_policy::not_downloaded], 0u) << "other people's avatars";
  for (auto const* rule : {"field:Attachment.url", "field:Attachment.thumbnailWithPlayIconUrl", "field:Comment.commentVoiceUrl",
                           "field:RecordedData.videoUrl", "field:RecordedData.audioUrl", "field:RecordedData.thumbnailUrl",
                           "field:RecordedData.videoPlayerUrl", "field:Transcription.vttFileUrl", "field:User.photoUrl",
                           "field:Reaction.iconUrl"}) {
    EXPECT_GT(by_rule[rule], 0u) << rule;
  }
  EXPECT_EQ(by_rule["host"], 0u) << "every media URL is in a known field";
  auto const policy_count = [&](media::field_policy p) {
    return std::count_if(refs.begin(), refs.end(), [&](auto const& r) { return r.policy == p; });
  };
  EXPECT_GT(policy_count(media::field_policy::not_downloaded), 0) << "others' avatars and icons";

  // The fault user: one attachment per fault, an http:// URL and a foreign host.
  auto const fault_refs = media::find_media(srv.expected_export("media-fault-0001"), "media-fault-0001", hosts);
  std::set<std::string> kinds;
  std::set<std::string> refusals;
  for (auto const& r : fault_refs) {
    if (r.rule != "field:Attachment.url") continue;
    if (auto const why = media::check_url(r.url, hosts)) {
      refusals.insert(*why);
      continue;
    }
    auto const path = parse_media_path(target_of(srv, r.url));
    ASSERT_TRUE(path) << r.url;
    kinds.insert(std::string(detail::media_kind_segment(path->kind)));
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"ok", "404", "slow", "big", "bigchunked", "redirect-same", "redirect-other",
                                          "redirect-loop", "500-then-ok"}));
  EXPECT_EQ(refusals, (std::set<std::string>{"not https", "host not allowed: storage.example.com"}));
}

TEST(MockMedia, OkServesValidDeterministicFilesWithoutCredentials) {
  server srv(media_options(1, 0));
  auto const data = srv.expected_export("media-0001");
  auto const refs = media::find_media(data, "media-0001", allowed(srv));
  test_client c(srv);
  std::set<std::string> exts, pngs;
  std::uint64_t bytes = 0, requests = 0;
  for (auto const& r : refs) {
    if (r.policy != media::field_policy::download) continue;
    std::string const target = target_of(srv, r.url);
    auto const path = parse_media_path(target);
    ASSERT_TRUE(path) << target;
    reply const res = media_get(c, target);
    ++requests;
    ASSERT_EQ(res.status, 200u) << target;
    auto const file = media_bytes(path->key, path->ext);
    EXPECT_EQ(res.body, file.bytes) << target;
    EXPECT_EQ(res.header("content-type"), file.content_type);
    EXPECT_EQ(res.header("content-length"), std::to_string(file.bytes.size()));
    bytes += res.body.size();
    exts.insert(path->ext);
    if (path->ext == "png") {
      expect_valid_png(res.body);
      pngs.insert(res.body);
    } else if (path->ext == "wav") {
      ASSERT_EQ(res.body.size(), 44u + 8000u);
      EXPECT_EQ(res.body.substr(0, 4), "RIFF");
      EXPECT_EQ(res.body.substr(8, 8), "WAVEfmt ");
      EXPECT_EQ(res.body.substr(36, 4), "data");
    } else if (path->ext == "vtt") {
      EXPECT_TRUE(res.body.starts_with("WEBVTT\n\n")) << res.body;
      EXPECT_EQ(std::count(res.body.begin(), res.body.end(), '>'), 3);
    } else if (path->ext == "mp4") {
      EXPECT_EQ(res.body.substr(4, 4), "ftyp");
    } else if (path->ext == "webm") {
      EXPECT_EQ(res.body.substr(0, 4), "\x1a\x45\xdf\xa3");
    }
  }
  EXPECT_TRUE(exts.contains("png") && exts.contains("wav") && exts.contains("vtt")) << exts.size();
  EXPECT_TRUE(exts.contains("mp4") || exts.contains("webm"));
  EXPECT_GT(pngs.size(), 3u) << "images differ by key";
  // Attachment sizes are the served files' sizes.
  for (auto const& rec : data.at("recordings").as_array()) {
    for (auto const& a : rec.at("attachments").as_array()) {
      auto const path = parse_media_path(target_of(srv, std::string(a.at("url").as_string())));
      ASSERT_TRUE(path);
      EXPECT_EQ(a.at("size").as_int64(), static_cast<std::int64_t>(media_bytes(path->key, path->ext).bytes.size()));
    }
  }
  auto stats = srv.stats();
  EXPECT_EQ(stats.media_requests, requests);
  EXPECT_EQ(stats.media_bytes, bytes);
  EXPECT_EQ(stats.media_requests_with_velt_headers, 0u);
  EXPECT_EQ(stats.requests, 0u) << "media requests are not API requests";
  EXPECT_EQ(stats.to_json().at("media_requests"), requests);

  // A client that sends its Velt credentials to a media host is counted and recorded.
  std::string const target = target_of(srv, refs.front().url);
  EXPECT_EQ(c.request("GET", target, "").status, 200u);
  stats = srv.stats();
  EXPECT_EQ(stats.media_requests_with_velt_headers, 1u);
  auto const recorded = srv.media_requests();
  ASSERT_EQ(recorded.size(), requests + 1);
  EXPECT_EQ(recorded.back().target, target);
  auto const has = [](media_request const& m, std::string const& name, std::string const& value) {
    return std::any_of(m.headers.begin(), m.headers.end(), [&](auto const& h) { return h.first == name && h.second == value; });
  };
  EXPECT_TRUE(has(recorded.back(), "x-velt-api-key", srv.api_key()));
  EXPECT_FALSE(has(recorded.front(), "x-velt-api-key", srv.api_key()));
  srv.reset_stats();
  EXPECT_TRUE(srv.media_requests().empty());
  EXPECT_EQ(srv.stats().media_requests, 0u);
}

TEST(MockMedia, FaultsDoWhatTheirPathSays) {
  server srv(media_options(0, 1));
  std::string const port = std::to_string(srv.port());
  auto const ok = media_bytes("Key1", "png");
  test_client c(srv);

  EXPECT_EQ(media_get(c, "/media/404/Key1.png").status, 404u);
  EXPECT_EQ(media_get(c, "/media/nope/Key1.png").status, 404u);
  EXPECT_EQ(media_get(c, "/media/ok/bad%20key.png").status, 404u);
  EXPECT_EQ(media_get(c, "/media/ok/noext").status, 404u);
  reply const post = c.request("POST", "/media/ok/Key1.png", "", no_credentials());
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.header("allow"), "GET");

  reply const same = media_get(c, "/media/redirect-same/Key1.png?sig=1");
  EXPECT_EQ(same.status, 302u);
  EXPECT_EQ(same.header("location"), srv.url() + "/media/ok/Key1.png");
  EXPECT_EQ(media_get(c, target_of(srv, same.header("location"))).body, ok.bytes);
  reply const other = media_get(c, "/media/redirect-other/Key1.png");
  EXPECT_EQ(other.status, 302u);
  EXPECT_EQ(other.header("location"), "https://localhost:" + port + "/media/ok/Key1.png");
  EXPECT_FALSE(test_client::try_connect(srv, "localhost")) << "the other name reaches the same server";
  reply const loop = media_get(c, "/media/redirect-loop/Key1.png");
  EXPECT_EQ(loop.status, 302u);
  EXPECT_EQ(loop.header("location"), srv.url() + "/media/redirect-loop/Key1.png");

  EXPECT_EQ(media_get(c, "/media/500-then-ok/Key1.png").status, 500u);
  reply const second = media_get(c, "/media/500-then-ok/Key1.png");
  EXPECT_EQ(second.status, 200u);
  EXPECT_EQ(second.body, ok.bytes);
  EXPECT_EQ(media_get(c, "/media/500-then-ok/Key2.png").status, 500u) << "per target";
  srv.reset_stats();
  EXPECT_EQ(media_get(c, "/media/500-then-ok/Key1.png").status, 500u) << "again after reset_stats";

  // slow: 1 KiB per 200 ms, a pause before each part.
  auto const wav = media_bytes("Key1", "wav");
  auto const start = std::chrono::steady_clock::now();
  reply const slow = media_get(c, "/media/slow/Key1.wav");
  auto const took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(slow.body, wav.bytes);
  EXPECT_GE(took, 200ms * ((wav.bytes.size() + 1023) / 1024) - 50ms);
  EXPECT_EQ(srv.stats().requests, 0u);
}

TEST(MockMedia, BigBodiesEndWhenTheClientGoes) {
  server srv(media_options(0, 0));
  {
    test_client c(srv);
    ASSERT_FALSE(c.send("GET", "/media/big/Key1.mp4", "", no_credentials()));
    reply head;
    ASSERT_FALSE(c.receive_head(head));
    EXPECT_EQ(head.status, 200u);
    EXPECT_EQ(head.header("content-length"), "3221225472");
    auto const [body, ec] = c.read_at_least(1 << 20);
    EXPECT_FALSE(ec);
    EXPECT_EQ(std::count(body.begin(), body.end(), '\0'), static_cast<std::ptrdiff_t>(body.size()));
  }
  {
    test_client c(srv);
    ASSERT_FALSE(c.send("GET", "/media/bigchunked/Key1.mp4", "", no_credentials()));
    reply head;
    ASSERT_FALSE(c.receive_head(head));
    EXPECT_EQ(head.status, 200u);
    EXPECT_TRUE(head.chunked);
    EXPECT_EQ(head.header("content-length"), "");
    auto const [body, ec] = c.read_at_least(256 * 1024);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(body.starts_with("10000\r\n" + std::string(64, '\0')));
  }
  // Both clients are gone: the server stops writing and closes both connections.
  auto const deadline = std::chrono::steady_clock::now() + 10s;
  while (srv.stats().active_connections > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  auto const stats = srv.stats();
  EXPECT_EQ(stats.active_connections, 0u);
  EXPECT_EQ(stats.media_requests, 2u);
  EXPECT_LT(stats.media_bytes, detail::media_endless_cap);
}

}  // namespace
}  // namespace velt::mock
