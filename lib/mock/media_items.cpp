// SPDX-License-Identifier: BSL-1.0
#include "media_items.hpp"

#include "media_files.hpp"
#include "rng.hpp"
#include "text_corpus.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstdio>

namespace velt::mock::detail {

namespace json = boost::json;

namespace {

struct media_gen {
  item_owner const& owner;
  std::uint64_t h;  ///< the item's hash: keys derive from it
  json::storage_ptr sp;
  unsigned n = 0;   ///< files made so far in this item

  std::string key() { return make_id(hash_combine(h, 0x3ed1a + n++), 16); }

  std::string url(media_kind k, std::string_view key, std::string_view ext) const {
    return std::string(owner.media_base) + media_target(k, key, ext);
  }

  /// An attachment of the file `<key>.<ext>` served at `kind`.
  json::object attachment(media_kind kind, std::string_view ext, std::string_view mime, std::string_view label) {
    std::string const k = key();
    json::object a(sp);
    a["attachmentId"] = static_cast<std::int64_t>(hash_combine(h, n) % 900000 + 100000);
    a["name"] = std::string(label) + " " + k + "." + std::string(ext);
    a["url"] = url(kind, k, ext);
    a["mimeType"] = mime;
    a["size"] = static_cast<std::int64_t>(media_bytes(k, ext).bytes.size());
    return a;
  }

  /// An attachment the regular generator made: its file moves to the server's origin.
  void move_to_origin(json::object& at) {
    auto const* mime = at.if_contains("mimeType");
    std::string_view const m = mime && mime->is_string() ? std::string_view(mime->get_string()) : std::string_view{};
    std::string_view const ext = m == "video/mp4" ? "mp4" : m == "image/png" ? "png" : m.ends_with("/webm") ? "webm" : "bin";
    std::string const k = key();
    at["url"] = url(media_kind::ok, k, ext);
    at["size"] = static_cast<std::int64_t>(media_bytes(k, ext).bytes.size());
  }

  void attachments_to_origin(json::object& holder) {
    if (auto* list = holder.if_contains("attachments"); list && list->is_array()) {
      for (auto& a : list->get_array()) {
        if (a.is_object()) move_to_origin(a.get_object());
      }
    }
  }

  void comment(json::object& c) {
    json::array attachments(sp);
    json::object image = attachment(media_kind::ok, "png", "image/png", "photo");
    image["thumbnailWithPlayIconUrl"] = url(media_kind::ok, key(), "png");
    attachments.push_back(std::move(image));
    if (auto* old = c.if_contains("attachments"); old && old->is_array()) {
      for (auto& a : old->get_array()) attachments.push_back(std::move(a));
    }
    c["commentVoiceUrl"] = url(media_kind::ok, key(), "wav");
    json::object recorder(sp);
    std::string const k = key();
    recorder["recorderId"] = k;
    recorder["videoUrl"] = url(media_kind::ok, k, "mp4");
    recorder["audioUrl"] = url(media_kind::ok, key(), "wav");
    recorder["thumbnailUrl"] = url(media_kind::ok, key(), "png");
    recorder["videoPlayerUrl"] = "https://app.example.com/recorder/" + k;
    c["recorders"] = json::array({std::move(recorder)}, sp);
    c["attachments"] = std::move(attachments);
  }

  void faults(json::object& c) {
    json::array& attachments = c["attachments"].as_array();
    for (auto kind : all_media_kinds) {
      if (kind == media_kind::ok) continue;
      attachments.push_back(attachment(kind, "png", "image/png", std::string(media_kind_segment(kind))));
    }
    json::object plain = attachment(media_kind::ok, "png", "image/png", "plain-http");
    std::string const u = plain["url"].as_string().c_str();
    plain["url"] = "http://" + u.substr(u.find("://") + 3);
    attachments.push_back(std::move(plain));
    json::object foreign = attachment(media_kind::ok, "png", "image/png", "foreign-host");
    std::string const f = foreign["url"].as_string().c_str();
    foreign["url"] = "https://storage.example.com" + f.substr(f.find("/media/"));
    attachments.push_back(std::move(foreign));
  }

  void recording(json::object& r) {
    attachments_to_origin(r);
    if (auto* t = r.if_contains("transcription"); t && t->is_object()) {
      t->get_object()["vttFileUrl"] = url(media_kind::ok, key(), "vtt");
    }
  }
};

/// Every `photoUrl` of a user object (one with a `userId`) at any depth.
void avatars(json::value& v, std::string_view base) {
  if (v.is_array()) {
    for (auto& e : v.get_array()) avatars(e, base);
    return;
  }
  if (!v.is_object()) return;
  auto& o = v.get_object();
  auto const* id = o.if_contains("userId");
  if (id && id->is_string() && o.contains("photoUrl")) {
    std::string const k = "avatar-" + make_id(hash_string(id->get_string()), 12);
    o["photoUrl"] = std::string(base) + media_target(media_kind::ok, k, "png");
  }
  for (auto& m : o) avatars(m.value(), base);
}

}  // namespace

std::string media_user_id(std::size_t n, bool faults) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%04zu", n);
  return (faults ? "media-fault-" : "media-") + std::string(digits);
}

void add_media(json::object& item, feature f, item_owner const& owner, std::size_t index,
               json::storage_ptr const& sp) {
  std::uint64_t const h = hash_combine(hash_combine(hash_combine(owner.seed, hash_string(owner.user_id)),
                                                    static_cast<std::uint64_t>(f) + 0x3ed1a),
                                       index);
  media_gen g{owner, h, sp};
  switch (f) {
    case feature::comments:
      if (auto* list = item.if_contains("comments"); list && list->is_array() && !list->get_array().empty()) {
        for (auto& c : list->get_array()) g.attachments_to_origin(c.as_object());
        auto& first = list->get_array().front().as_object();
        g.comment(first);
        if (owner.media == media_role::faults && index == 0) g.faults(first);
      }
      break;
    case feature::recordings: g.recording(item); break;
    case feature::reactions:
      item["iconUrl"] = g.url(media_kind::ok, "icon-" + g.key(), "png");
      break;
    case feature::notifications: break;
  }
  for (auto& m : item) avatars(m.value(), owner.media_base);
}

}  // namespace velt::mock::detail
