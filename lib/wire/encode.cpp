// SPDX-License-Identifier: BSL-1.0
// Requests: paths, validation before any I/O, and the `{"data": {...}}` bodies.
#include <velt/wire.hpp>

#include "wire/utf8.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <string>

namespace velt::wire {
namespace {

error_details invalid_request(std::string message) {
  return make_error_details(make_error_code(errc::invalid_request), std::move(message));
}

// The problem with one id-like field, named `field` in the message; nullopt when fine.
std::optional<error_details> check_field(std::string_view field, std::string_view value) {
  if (value.empty()) return invalid_request(std::string(field) + " is empty");
  if (value.find('\0') != std::string_view::npos)
    return invalid_request(std::string(field) + " contains a NUL byte");
  if (!detail::is_valid_utf8(value))
    return invalid_request(std::string(field) + " is not valid UTF-8");
  return std::nullopt;
}

std::optional<error_details> check_list(std::string_view field,
                                        std::vector<std::string> const& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (auto e = check_field(std::string(field) + "[" + std::to_string(i) + "]", values[i]))
      return e;
  return std::nullopt;
}

boost::json::array to_json_array(std::vector<std::string> const& values) {
  boost::json::array a;
  a.reserve(values.size());
  for (auto const& v : values) a.emplace_back(v);
  return a;
}

/// How deep `extra` values may nest (as decode_limits::max_depth bounds answers).
constexpr std::size_t max_extra_depth = 64;

/// The field of a user_data_request that sets a reserved key, or empty when `key` is free.
std::string_view reserved_by(std::string_view key) noexcept {
  if (key == reserved_user_data_keys[0]) return "organization_id";
  if (key == reserved_user_data_keys[1]) return "user_id";
  if (key == reserved_user_data_keys[2]) return "page_token";
  return {};
}

// The problem with one value of `extra` (at `where`, for the message), nullopt when fine.
std::optional<error_details> check_extra_value(std::string const& where,
                                               boost::json::value const& v, std::size_t depth) {
  if (depth > max_extra_depth)
    return invalid_request(where + " is nested deeper than " + std::to_string(max_extra_depth) +
                           " levels");
  switch (v.kind()) {
    case boost::json::kind::string:
      if (!detail::is_valid_utf8(v.get_string())) return invalid_request(where + " is not valid UTF-8");
      return std::nullopt;
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) return invalid_request(where + " is not a finite number");
      return std::nullopt;
    case boost::json::kind::array: {
      auto const& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i)
        if (auto e = check_extra_value(where + "[" + std::to_string(i) + "]", a[i], depth + 1))
          return e;
      return std::nullopt;
    }
    case boost::json::kind::object:
      for (auto const& member : v.get_object()) {
        if (!detail::is_valid_utf8(member.key()))
          return invalid_request(where + " has a key that is not valid UTF-8");
        if (auto e = check_extra_value(where + "." + std::string(member.key()), member.value(),
                                       depth + 1))
          return e;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string envelope(boost::json::object params) {
  boost::json::object body;
  body.emplace("data", std::move(params));
  return boost::json::serialize(body);
}

}  // namespace

std::string_view path(endpoint e, api_version v) noexcept {
  bool const v1 = v == api_version::v1;
  switch (e) {
    case endpoint::get_user_data:
      return v1 ? "/v1/users/data/get" : "/v2/users/data/get";
    case endpoint::delete_user_data:
      return v1 ? "/v1/users/data/delete" : "/v2/users/data/delete";
    case endpoint::delete_status:
      return v1 ? "/v1/users/data/delete/status" : "/v2/users/data/delete/status";
  }
  return {};
}

std::optional<error_details> validate(user_data_request const& r) {
  if (auto e = check_field("organization_id", r.organization_id)) return e;
  if (auto e = check_field("user_id", r.user_id)) return e;
  if (r.page_token)
    if (auto e = check_field("page_token", *r.page_token)) return e;
  return validate_extra(r.extra);
}

std::optional<error_details> validate_extra(boost::json::object const& extra,
                                            std::string_view field) {
  for (auto const& member : extra) {
    std::string_view const key = member.key();
    if (!detail::is_valid_utf8(key))
      return invalid_request(std::string(field) + " has a key that is not valid UTF-8");
    std::string where = std::string(field) + "." + std::string(key);
    if (auto const owner = reserved_by(key); !owner.empty())
      return invalid_request(where + " is reserved: " + std::string(owner) + " sets it");
    if (auto e = check_extra_value(where, member.value(), 1)) return e;
  }
  return std::nullopt;
}

std::optional<error_details> validate(delete_user_data_request const& r) {
  if (r.user_ids.empty()) return invalid_request("user_ids is empty");
  if (auto e = check_list("user_ids", r.user_ids)) return e;
  return check_list("organization_ids", r.organization_ids);
}

std::optional<error_details> validate(delete_status_request const& r) {
  return check_field("job_id", r.job_id);
}

std::string encode(user_data_request const& r) {
  boost::json::object params;
  params.emplace("organizationId", r.organization_id);
  params.emplace("userId", r.user_id);
  if (r.page_token) params.emplace("pageToken", *r.page_token);
  if (!r.extra.empty()) {
    params.reserve(params.size() + r.extra.size());
    for (auto const& member : r.extra)
      if (reserved_by(member.key()).empty()) params.emplace(member.key(), member.value());
  }
  return envelope(std::move(params));
}

std::string encode(delete_user_data_request const& r) {
  boost::json::object params;
  params.emplace("userIds", to_json_array(r.user_ids));
  if (!r.organization_ids.empty())
    params.emplace("organizationIds", to_json_array(r.organization_ids));
  return envelope(std::move(params));
}

std::string encode(delete_status_request const& r) {
  boost::json::object params;
  params.emplace("jobId", r.job_id);
  return envelope(std::move(params));
}

}  // namespace velt::wire
