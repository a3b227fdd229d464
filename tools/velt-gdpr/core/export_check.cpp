// SPDX-License-Identifier: BSL-1.0
#include "core/export_check.hpp"

#include "core/atomic_file.hpp"
#include "core/time_format.hpp"

#include <velt/model.hpp>
#include <velt/wire.hpp>

namespace velt::gdpr {

std::optional<std::string> check_export_file(std::filesystem::path const& file, expected_export const& expected) {
  std::string text;
  try {
    text = read_file(file);
  } catch (std::exception const& e) {
    return std::string("cannot read: ") + e.what();
  }
  auto parsed = velt::wire::parse_json(text);
  if (!parsed) return "not valid JSON: " + parsed.error().message;
  if (!parsed->is_object()) return "not a JSON object";
  auto const& o = parsed->get_object();
  auto str = [&](char const* key) -> std::optional<std::string> {
    auto const* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
  };
  if (str("organizationId") != expected.organization_id) return "organizationId differs";
  if (str("userId") != expected.user_id) return "userId differs";
  auto const at = str("exportedAt");
  if (!at || !parse_utc(*at)) return "exportedAt missing or malformed";
  auto const* pages = o.if_contains("pages");
  if (pages == nullptr || !pages->is_number() || pages->to_number<std::uint64_t>() != expected.pages) {
    return "pages differs";
  }
  auto const* data = o.if_contains("data");
  if (data == nullptr || !data->is_object()) return "data missing";
  auto const& d = data->get_object();
  for (char const* known : velt::known_features) {
    if (auto const* f = d.if_contains(known); f == nullptr || !f->is_array()) {
      return std::string("feature ") + known + " missing";
    }
  }
  for (auto const& m : d) {
    auto const* want = expected.data.if_contains(m.key());
    bool const empty_known = m.value().is_array() && m.value().get_array().empty();
    if (want == nullptr) {
      if (empty_known) continue;  // a known feature the server never sent
      return "unexpected feature " + std::string(m.key());
    }
    if (m.value() != *want) return "feature " + std::string(m.key()) + " differs";
  }
  for (auto const& m : expected.data) {
    if (!d.contains(m.key())) return "feature " + std::string(m.key()) + " missing";
  }
  // The server's order of features is kept.
  auto it = d.begin();
  for (auto const& m : expected.data) {
    while (it != d.end() && it->key() != m.key()) ++it;
    if (it == d.end()) return "features are not in the server's order";
  }
  return std::nullopt;
}

}  // namespace velt::gdpr
