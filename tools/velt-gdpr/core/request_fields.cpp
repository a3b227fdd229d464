// SPDX-License-Identifier: BSL-1.0
#include "core/request_fields.hpp"

#include <velt/wire.hpp>

#include <string_view>

namespace velt::gdpr {
namespace {

[[noreturn]] void refuse(std::string const& spec, std::string const& why) {
  throw request_field_error("--request-field '" + spec + "': " + why);
}

/// Where the tool gets the value of a reserved key from.
std::string_view set_by(std::string_view key) {
  if (key == "organizationId") return "--org";
  if (key == "userId") return "--user / --users-file";
  return "the page chain";  // pageToken
}

bool is_reserved(std::string_view key) {
  for (std::string_view r : velt::wire::reserved_user_data_keys)
    if (key == r) return true;
  return false;
}

}  // namespace

boost::json::object parse_request_fields(std::vector<std::string> const& specs) {
  boost::json::object out;
  for (auto const& spec : specs) {
    auto const eq = spec.find('=');
    if (eq == std::string::npos)
      refuse(spec, "expected KEY=JSON, e.g. veltAllOrganizations=true or uniqueId='\"x\"'");
    std::string_view const key = std::string_view(spec).substr(0, eq);
    std::string_view const text = std::string_view(spec).substr(eq + 1);
    if (key.empty()) refuse(spec, "the key before '=' is empty");
    if (is_reserved(key))
      refuse(spec, std::string(key) + " is set by velt-gdpr itself (from " + std::string(set_by(key)) +
                       ") and cannot be given");
    if (out.contains(key)) refuse(spec, std::string(key) + " is given twice; give each key once");
    auto value = velt::wire::parse_json(text);
    if (!value) {
      std::string why = "the value after '=' is not valid JSON";
      auto const first = text.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) {
        why += " (it is empty)";
      } else if (value.error().message.find("too large for a double") != std::string::npos) {
        why += " (a number is too large for a double)";
      } else if (std::string_view("\"[{-0123456789tfn").find(text[first]) == std::string_view::npos) {
        why += " (a string needs double quotes: " + std::string(key) + "='\"...\"')";
      }
      refuse(spec, why);
    }
    boost::json::object one;
    one.emplace(key, std::move(*value));
    if (auto e = velt::wire::validate_extra(one, "the request field")) refuse(spec, e->message);
    out.emplace(key, std::move(one.at(key)));
  }
  return out;
}

}  // namespace velt::gdpr
