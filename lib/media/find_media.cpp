// SPDX-License-Identifier: BSL-1.0
// Walks an export's items for media values: the rows of known_fields() at any depth, and
// any other string that is an https URL on an allowed host (design note §2 D11, D12).
#include <velt/media.hpp>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace velt::media {

namespace {

namespace json = boost::json;

/// RFC 6901: "~" as "~0", "/" as "~1".
void append_token(std::string& pointer, std::string_view key) {
  pointer.push_back('/');
  for (char c : key) {
    if (c == '~') {
      pointer.append("~0");
    } else if (c == '/') {
      pointer.append("~1");
    } else {
      pointer.push_back(c);
    }
  }
}

field_rule const* rule_for(std::string_view parent, std::string_view key) {
  for (auto const& r : known_fields()) {
    if (r.key == key && (r.parent == "*" || r.parent == parent)) return &r;
  }
  return nullptr;
}

std::optional<std::string> string_member(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

struct walker {
  std::string_view subject;
  std::span<std::string const> hosts;
  std::vector<media_ref>& out;
  std::string feature;
  std::size_t item = 0;

  void add(std::string const& pointer, std::string_view value, std::string rule, field_policy policy,
           json::object const* holder) {
    media_ref ref;
    ref.feature = feature;
    ref.item = item;
    ref.pointer = pointer;
    ref.url = std::string(value);
    ref.rule = std::move(rule);
    ref.policy = policy;
    if (holder != nullptr) {
      ref.name = string_member(*holder, "name");
      ref.mime_type = string_member(*holder, "mimeType");
    }
    out.push_back(std::move(ref));
  }

  /// A string not matched by a row: media only when it is an allowed https URL (D12).
  void any_string(std::string const& pointer, json::string const& s, json::object const* holder) {
    std::string_view const v = s;
    if (v.size() < 8 || (v[0] != 'h' && v[0] != 'H')) return;  // cheap: most strings are text
    if (!check_url(v, hosts)) add(pointer, v, "host", field_policy::download, holder);
  }

  void matched(std::string const& pointer, field_rule const& r, json::value const& v, json::object const& holder) {
    field_policy policy = r.policy;
    if (r.subject_only) {
      auto const id = string_member(holder, "userId");
      if (!id || *id != subject) policy = field_policy::not_downloaded;
    }
    std::string rule = "field:";
    rule.append(r.model).append(1, '.').append(r.key);
    if (v.is_string()) {
      if (!v.get_string().empty()) add(pointer, v.get_string(), std::move(rule), policy, &holder);
      return;
    }
    if (v.is_array()) {  // previewImages: strings; anything else is walked as usual
      auto const& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        std::string p = pointer;
        append_token(p, std::to_string(i));
        if (a[i].is_string()) {
          if (!a[i].get_string().empty()) add(p, a[i].get_string(), rule, policy, &holder);
        } else {
          walk(a[i], p, r.key, nullptr);
        }
      }
      return;
    }
    walk(v, pointer, r.key, nullptr);
  }

  /// `parent`: the name of the member holding `v` (for array elements, the array's member).
  void walk(json::value const& v, std::string const& pointer, std::string_view parent, json::object const* holder) {
    switch (v.kind()) {
      case json::kind::object: {
        auto const& o = v.get_object();
        for (auto const& m : o) {
          std::string p = pointer;
          append_token(p, m.key());
          if (auto const* r = rule_for(parent, m.key())) {
            matched(p, *r, m.value(), o);
          } else if (m.value().is_string()) {
            any_string(p, m.value().get_string(), &o);
          } else {
            walk(m.value(), p, m.key(), &o);
          }
        }
        break;
      }
      case json::kind::array: {
        auto const& a = v.get_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
          std::string p = pointer;
          append_token(p, std::to_string(i));
          walk(a[i], p, parent, nullptr);
        }
        break;
      }
      case json::kind::string:
        any_string(pointer, v.get_string(), holder);
        break;
      default:
        break;
    }
  }
};

}  // namespace

std::vector<media_ref> find_media(json::object const& data, std::string_view subject_user_id,
                                  std::span<std::string const> allowed_hosts) {
  std::vector<media_ref> out;
  walker w{subject_user_id, allowed_hosts, out, {}, 0};
  for (auto const& feature : data) {
    w.feature = std::string(feature.key());
    if (feature.value().is_array()) {
      auto const& items = feature.value().get_array();
      for (std::size_t i = 0; i < items.size(); ++i) {
        w.item = i;
        w.walk(items[i], std::string{}, std::string_view{}, nullptr);
      }
    } else {
      // Not an array (the API promises arrays): walked as one item, so nothing is missed.
      w.item = 0;
      w.walk(feature.value(), std::string{}, std::string_view{}, nullptr);
    }
  }
  return out;
}

}  // namespace velt::media
