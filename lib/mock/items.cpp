// SPDX-License-Identifier: BSL-1.0
#include "items.hpp"

#include "json_writer.hpp"
#include "media_items.hpp"
#include "rng.hpp"
#include "text_corpus.hpp"

#include <velt/mock/options.hpp>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <bit>
#include <cmath>
#include <string>

namespace velt::mock::detail {

namespace json = boost::json;

namespace {

/// Integers are written as int64, the kind a JSON parser gives them back as.
constexpr std::int64_t i64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }

constexpr std::int64_t base_epoch_ms = 1748972106739;  // 2025-06-03T17:35:06.739Z
constexpr std::int64_t year_ms = 365LL * 24 * 3600 * 1000;

struct gen {
  item_owner const& owner;
  rng r;
  json::storage_ptr sp;

  std::int64_t epoch_ms() { return base_epoch_ms - static_cast<std::int64_t>(r.below(year_ms)); }

  /// Another user of the data set (or the owner), as an id.
  std::string other_user_id() {
    if (owner.user_count == 0) return std::string(owner.user_id);
    return user_id(static_cast<std::size_t>(r.between(1, owner.user_count)));
  }

  /// A pin coordinate: a multiple of 1/16 (exact in binary) or an arbitrary fraction.
  json::value coordinate() {
    if (r.chance(0.5)) return json_number(static_cast<double>(r.between(1, 15)) / 16.0);
    return json_number(static_cast<double>(r.below(2'000'000'000'000)) / 1e12 + 100.0);
  }

  /// A double that needs all 17 significant digits, over a wide range of magnitudes.
  json::value awkward_double() {
    double const mantissa = 1.0 + r.real();
    int const exp = static_cast<int>(r.between(0, 240)) - 120;
    return json_number(std::ldexp(mantissa, exp));
  }

  json::object user(std::string_view id) {
    std::uint64_t const h = hash_string(id);
    std::string_view const name = person_name(h);
    json::object u(sp);
    u["userId"] = id;
    u["organizationId"] = owner.organization_id;
    u["name"] = name;
    u["email"] = "u" + std::to_string(h % 100000) + "@example.com";
    u["photoUrl"] = "https://images.example.com/avatars/" + make_id(h, 12) + ".png";
    u["color"] = make_color(h);
    u["textColor"] = "#ffffff";
    u["isAdmin"] = (h & 7) == 0;
    u["isGuest"] = (h & 15) == 3;
    u["initial"] = utf8_prefix(name, 1);
    u["accessRole"] = (h & 1) ? "editor" : "viewer";
    return u;
  }

  json::object metadata(std::string_view document_id) {
    json::object m(sp);
    m["documentId"] = document_id;
    m["apiKey"] = "demo-velt-api-key";
    m["organizationId"] = owner.organization_id;
    m["version"] = i64(r.between(1, 40));
    m["ratio"] = coordinate();
    json::object deep(sp);
    deep["flag"] = r.chance(0.5);
    deep["values"] = json::array({json_number(0.1), awkward_double(), i64(r.between(0, 1000)), nullptr}, sp);
    deep["note"] = make_phrase(r);
    json::object l2(sp);
    l2["level3"] = std::move(deep);
    json::object l1(sp);
    l1["level2"] = std::move(l2);
    if (r.chance(0.5)) m["custom"] = json::object({{"level1", std::move(l1)}}, sp);
    switch (r.below(6)) {
      case 0: m["bigInteger"] = std::int64_t{9007199254740993}; break;  // 2^53 + 1
      case 1: m["tiny"] = 5e-324; break;
      case 2: m["huge"] = 1.7976931348623157e308; break;
      case 3: m["third"] = 1.0 / 3.0; break;
      case 4: m["negative"] = -42.125; break;
      default: m["precise"] = 123.456789012345; break;
    }
    return m;
  }

  json::object comment(std::string_view annotation_id, std::size_t n) {
    json::object c(sp);
    std::int64_t const created = epoch_ms();
    c["commentId"] = static_cast<std::int64_t>(hash_combine(hash_string(annotation_id), n) % 900000 + 100000);
    bool const voice = r.chance(0.1);
    c["type"] = voice ? "voice" : "text";
    std::string const text = make_text(r, 20 + r.below(180));
    c["commentHtml"] = "<p>" + html_escape(text) + "</p>";
    c["commentText"] = text;
    c["from"] = n == 0 ? user(owner.user_id) : user(other_user_id());
    json::array to(sp);
    if (r.chance(0.3)) to.push_back(user(other_user_id()));
    c["to"] = std::move(to);
    bool const edited = r.chance(0.3);
    c["status"] = edited ? "updated" : "added";
    c["createdAt"] = iso8601(created);
    c["lastUpdated"] = iso8601(created + static_cast<std::int64_t>(r.below(86'400'000)));
    if (edited) c["editedAt"] = iso8601(created + 60'000);
    c["isEdited"] = edited;
    json::array attachments(sp);
    if (voice || r.chance(0.15)) {
      json::object a(sp);
      a["attachmentId"] = static_cast<std::int64_t>(r.between(100000, 999999));
      a["name"] = voice ? "voice-note.webm" : "screenshot 2025-06-03 at 17.35.06.png";
      a["url"] = "https://storage.example.com/attachments/" + make_id(r.next(), 24);
      a["mimeType"] = voice ? "audio/webm" : "image/png";
      a["size"] = i64(r.between(1024, 8'000'000));
      attachments.push_back(std::move(a));
    }
    c["attachments"] = std::move(attachments);
    json::array reaction_ids(sp);
    for (std::uint64_t i = 0, k = r.below(3); i < k; ++i) reaction_ids.push_back(json::value(make_id(r.next()), sp));
    c["reactionAnnotationIds"] = std::move(reaction_ids);
    if (r.chance(0.3)) c["metadata"] = json::object({{"source", "web"}, {"clientVersion", "4.2.0-beta.7"}}, sp);
    return c;
  }

  json::object comment_annotation(std::size_t index) {
    json::object a(sp);
    std::string const id = make_id(r.next());
    std::string const doc = "doc-" + std::to_string(r.between(1, 60));
    std::int64_t const created = epoch_ms();
    a["annotationId"] = id;
    a["annotationNumber"] = static_cast<std::int64_t>(index + 1);
    json::array comments(sp);
    for (std::uint64_t i = 0, k = r.chance(0.05) ? 4 : r.chance(0.3) ? 2 : 1; i < k; ++i) comments.push_back(comment(id, i));
    a["comments"] = std::move(comments);
    a["from"] = user(owner.user_id);
    static constexpr std::string_view status_ids[] = {"OPEN", "IN_PROGRESS", "RESOLVED"};
    static constexpr std::string_view status_names[] = {"Open", "In Progress", "Resolved"};
    static constexpr std::string_view status_types[] = {"default", "ongoing", "terminal"};
    auto const s = r.below(3);
    a["status"] = json::object({{"id", status_ids[s]}, {"name", status_names[s]},
                                {"color", make_color(s * 77)}, {"type", status_types[s]}}, sp);
    a["createdAt"] = created;
    a["lastUpdated"] = created + static_cast<std::int64_t>(r.below(3'600'000));
    a["documentId"] = doc;
    a["locationId"] = r.chance(0.5) ? json::value(static_cast<std::int64_t>(r.between(1, 1'000'000)), sp) : json::value(nullptr, sp);
    a["location"] = r.chance(0.5) ? json::value(json::object({{"id", "loc-" + std::to_string(r.below(99))}, {"locationName", make_phrase(r)}}, sp), sp) : json::value(nullptr, sp);
    json::object context(sp);
    context["pinPosition"] = json::object({{"x", coordinate()}, {"y", coordinate()}}, sp);
    context["zoom"] = coordinate();
    context["elementPath"] = "html > body > div#app > main > section:nth-of-type(" + std::to_string(r.between(1, 9)) + ")";
    a["context"] = std::move(context);
    a["assignedTo"] = r.chance(0.3) ? json::value(user(other_user_id()), sp) : json::value(nullptr, sp);
    if (r.chance(0.4)) {
      a["priority"] = json::object({{"id", "P" + std::to_string(r.below(3))}, {"name", "High"}, {"color", "#ff4d4f"}, {"lightColor", "#ffe5e5"}}, sp);
    }
    a["resolvedByUserId"] = s == 2 ? json::value(other_user_id(), sp) : json::value(nullptr, sp);
    json::object subscribed(sp);
    for (std::uint64_t i = 0, k = r.below(3); i < k; ++i) subscribed[other_user_id()] = json::object({{"type", "auto"}, {"subscribedAt", epoch_ms()}}, sp);
    a["subscribedUsers"] = std::move(subscribed);
    a["isDraft"] = r.chance(0.05);
    a["involvedUserIds"] = json::array({json::value(owner.user_id, sp), json::value(other_user_id(), sp)}, sp);
    json::array mentioned(sp);
    if (r.chance(0.5)) mentioned.push_back(json::value(other_user_id(), sp));
    a["mentionedUserIds"] = std::move(mentioned);
    a["pageInfo"] = json::object({{"url", "https://app.example.com/docs/" + doc + "?tab=r%C3%A9sum%C3%A9#section-2"},
                                  {"title", make_phrase(r)}, {"screenWidth", 1440}, {"devicePixelRatio", 2.5}}, sp);
    return a;
  }

  json::object reaction_annotation() {
    json::object a(sp);
    std::string_view const e = make_emoji(r);
    std::int64_t const updated = epoch_ms();
    a["annotationId"] = make_id(r.next());
    a["from"] = user(owner.user_id);
    json::array reactions(sp);
    for (std::uint64_t i = 0, k = r.chance(0.3) ? 2 : 1; i < k; ++i) {
      reactions.push_back(json::object({{"variant", e}, {"from", user(i == 0 ? std::string(owner.user_id) : other_user_id())},
                                        {"lastUpdated", updated - static_cast<std::int64_t>(i * 1000)}}, sp));
    }
    a["reactions"] = std::move(reactions);
    a["commentAnnotationId"] = make_id(r.next());
    a["icon"] = "reaction-" + std::to_string(r.below(12));
    a["iconUrl"] = "https://cdn.example.com/reactions/" + std::to_string(r.below(12)) + ".svg";
    a["iconEmoji"] = e;
    a["locationId"] = r.chance(0.5) ? json::value(static_cast<std::int64_t>(r.between(1, 1000)), sp) : json::value(nullptr, sp);
    a["lastUpdated"] = updated;
    a["metadata"] = r.chance(0.3) ? metadata("doc-" + std::to_string(r.between(1, 60)))
                                  : json::object({{"documentId", "doc-" + std::to_string(r.between(1, 60))}}, sp);
    return a;
  }

  json::object recording() {
    json::object a(sp);
    static constexpr std::string_view types[] = {"audio", "video", "screen"};
    static constexpr std::string_view mimes[] = {"audio/webm", "video/webm", "video/mp4"};
    auto const t = r.below(3);
    a["annotationId"] = make_id(r.next());
    a["from"] = user(owner.user_id);
    a["recordingType"] = types[t];
    a["mode"] = r.chance(0.5) ? "floating" : "thread";
    json::array attachments(sp);
    for (std::uint64_t i = 0, k = r.chance(0.2) ? 2 : 1; i < k; ++i) {
      json::object at(sp);
      at["attachmentId"] = base_epoch_ms * 1000 + static_cast<std::int64_t>(r.below(1'000'000));
      at["url"] = "https://storage.example.com/recordings/" + make_id(r.next(), 28) + ".webm";
      at["mimeType"] = mimes[t];
      at["name"] = "Recording – " + std::string(utf8_prefix(make_phrase(r), 12)) + ".webm";
      at["type"] = types[t];
      at["size"] = i64(r.between(10'000, 4'000'000'000));  // above 2^31 sometimes
      attachments.push_back(std::move(at));
    }
    a["attachments"] = std::move(attachments);
    double const seconds = static_cast<double>(r.between(1, 600'000)) / 1000.0;
    a["recordedTime"] = json::object({{"duration", json_number(seconds)}, {"display", std::to_string(static_cast<int>(seconds) / 60) + ":" + std::to_string(static_cast<int>(seconds) % 60)}}, sp);
    a["transcription"] = json::object({{"transcriptedText", make_text(r, 30 + r.below(160))}, {"vttFileUrl", "https://storage.example.com/vtt/" + make_id(r.next()) + ".vtt"}}, sp);
    a["displayName"] = make_phrase(r);
    a["latestVersion"] = i64(r.between(0, 5));
    a["lastUpdated"] = epoch_ms();
    json::array waveform(sp);
    for (int i = 0; i < 8; ++i) waveform.push_back(coordinate());
    a["waveform"] = std::move(waveform);
    a["metadata"] = metadata("doc-" + std::to_string(r.between(1, 60)));
    return a;
  }

  json::object notification() {
    json::object n(sp);
    static constexpr std::string_view sources[] = {"comment", "reaction", "recording", "custom"};
    static constexpr std::string_view actions[] = {"added", "mentioned", "statusChanged", "assigned"};
    std::string const actor = other_user_id();
    std::string const doc = "doc-" + std::to_string(r.between(1, 60));
    n["id"] = make_id(r.next());
    n["notificationSource"] = r.pick(sources);
    n["actionType"] = r.pick(actions);
    n["actionUser"] = user(actor);
    n["timestamp"] = epoch_ms();
    n["displayHeadlineMessageTemplate"] = "{actionUser} mentioned you in {documentName}";
    n["displayHeadlineMessageTemplateData"] = json::object({{"actionUser", person_name(hash_string(actor))}, {"documentName", make_phrase(r)}}, sp);
    n["displayHeadlineMessage"] = std::string(person_name(hash_string(actor))) + " mentioned you";
    n["displayBodyMessage"] = make_text(r, 20 + r.below(120));
    n["targetAnnotationId"] = make_id(r.next());
    n["notificationSourceData"] = json::object({{"annotationId", make_id(r.next())}, {"commentId", static_cast<std::int64_t>(r.between(100000, 999999))},
                                                {"status", json::object({{"id", "OPEN"}, {"type", "default"}}, sp)}}, sp);
    n["metadata"] = metadata(doc);
    json::object notify(sp);
    notify[owner.user_id] = true;
    for (std::uint64_t i = 0, k = r.below(4); i < k; ++i) notify[other_user_id()] = r.chance(0.7);
    n["notifyUsers"] = notify;
    n["notifyUsersByUserId"] = std::move(notify);
    n["isUnread"] = r.chance(0.5);
    return n;
  }
};

}  // namespace

json::object make_item(feature f, item_owner const& owner, std::size_t index, json::storage_ptr sp) {
  std::uint64_t const h = hash_combine(hash_combine(hash_combine(owner.seed, hash_string(owner.user_id)),
                                                    static_cast<std::uint64_t>(f)),
                                       index);
  gen g{owner, rng(h), std::move(sp)};
  json::object item(g.sp);
  switch (f) {
    case feature::comments: item = g.comment_annotation(index); break;
    case feature::reactions: item = g.reaction_annotation(); break;
    case feature::recordings: item = g.recording(); break;
    case feature::notifications: item = g.notification(); break;
  }
  if (owner.media != media_role::none) add_media(item, f, owner, index, g.sp);
  return item;
}

json::object make_user_profile(item_owner const& owner, json::storage_ptr sp) {
  gen g{owner, rng(hash_combine(owner.seed, hash_string(owner.user_id) ^ 0x5eed)), std::move(sp)};
  json::object p = g.user(owner.user_id);
  p["createdAt"] = g.epoch_ms();
  p["preferences"] = json::object({{"locale", "de-CH"}, {"timeZone", "Europe/Zürich"}, {"emailDigest", g.r.chance(0.5)}}, g.sp);
  p["about"] = make_text(g.r, 120);
  return p;
}

}  // namespace velt::mock::detail
