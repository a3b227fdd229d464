// SPDX-License-Identifier: BSL-1.0
// Requests: paths, validation before any I/O, and the `{"data": {...}}` bodies.
#include <velt/wire.hpp>

#include "wire/utf8.hpp"

#include <boost/json/serialize.hpp>

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
