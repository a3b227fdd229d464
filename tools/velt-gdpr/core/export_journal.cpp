// SPDX-License-Identifier: BSL-1.0
#include "core/export_journal.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace velt::gdpr {

namespace json = boost::json;

std::string to_json_text(export_journal const& j) {
  json::array features;
  for (auto const& f : j.features) {
    features.push_back(json::object{{"name", f.name}, {"items", f.items}, {"bytes", f.bytes}});
  }
  json::object o;
  o["version"] = 1;
  o["organizationId"] = j.organization_id;
  o["userId"] = j.user_id;
  o["pages"] = j.pages;
  o["nextPageToken"] = j.next_page_token;
  o["features"] = std::move(features);
  return json::serialize(o) + "\n";
}

namespace {
std::optional<std::uint64_t> unsigned_of(json::value const* v) {
  if (v == nullptr) return std::nullopt;
  if (auto const* u = v->if_uint64()) return *u;
  if (auto const* i = v->if_int64(); i != nullptr && *i >= 0) return static_cast<std::uint64_t>(*i);
  return std::nullopt;
}
std::optional<std::string> string_of(json::value const* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}
}  // namespace

std::optional<export_journal> parse_journal(std::string_view text) {
  json::error_code ec;
  json::value const v = json::parse(text, ec);  // no doubles in a journal
  if (ec || !v.is_object()) return std::nullopt;
  auto const& o = v.get_object();
  if (unsigned_of(o.if_contains("version")) != 1u) return std::nullopt;
  export_journal j;
  auto org = string_of(o.if_contains("organizationId"));
  auto user = string_of(o.if_contains("userId"));
  auto pages = unsigned_of(o.if_contains("pages"));
  auto token = string_of(o.if_contains("nextPageToken"));
  auto const* features = o.if_contains("features");
  if (!org || !user || !pages || !token || token->empty() || features == nullptr ||
      !features->is_array()) {
    return std::nullopt;
  }
  j.organization_id = std::move(*org);
  j.user_id = std::move(*user);
  j.pages = *pages;
  j.next_page_token = std::move(*token);
  for (auto const& f : features->get_array()) {
    if (!f.is_object()) return std::nullopt;
    auto name = string_of(f.get_object().if_contains("name"));
    auto items = unsigned_of(f.get_object().if_contains("items"));
    auto bytes = unsigned_of(f.get_object().if_contains("bytes"));
    if (!name || !items || !bytes) return std::nullopt;
    j.features.push_back(journal_feature{std::move(*name), *items, *bytes});
  }
  return j;
}

}  // namespace velt::gdpr
