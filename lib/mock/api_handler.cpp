// SPDX-License-Identifier: BSL-1.0
#include "api_handler.hpp"

#include "json_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace velt::mock::detail {

namespace json = boost::json;

namespace {

constexpr std::size_t max_user_ids = 1000;

std::shared_ptr<std::string const> share(std::string s) {
  return std::make_shared<std::string const>(std::move(s));
}

/// A required, non-empty string member.
std::optional<std::string> string_member(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) return std::nullopt;
  return std::string(v->get_string());
}

/// An array of non-empty strings; nullopt when it is anything else.
std::optional<std::vector<std::string>> string_array(json::value const& v) {
  if (!v.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (auto const& e : v.get_array()) {
    if (!e.is_string() || e.get_string().empty()) return std::nullopt;
    out.emplace_back(e.get_string());
  }
  return out;
}

}  // namespace

std::optional<std::pair<wire::endpoint, api_version>> match_api_path(std::string_view path) noexcept {
  api_version v{};
  if (path.starts_with("/v2/")) {
    v = api_version::v2;
  } else if (path.starts_with("/v1/")) {
    v = api_version::v1;
  } else {
    return std::nullopt;
  }
  std::string_view const rest = path.substr(3);
  if (rest == "/users/data/get") return std::pair{wire::endpoint::get_user_data, v};
  if (rest == "/users/data/delete") return std::pair{wire::endpoint::delete_user_data, v};
  if (rest == "/users/data/delete/status") return std::pair{wire::endpoint::delete_status, v};
  return std::nullopt;
}

api_response error_response(unsigned http_status, std::string_view status, std::string_view message,
                            int code) {
  std::string body = R"({"error":{"message":)";
  write_json_string(body, message);
  body += R"(,"status":)";
  write_json_string(body, status);
  body += R"(,"code":)";
  body += std::to_string(code);
  body += "}}";
  api_response r;
  r.status = http_status;
  r.body = share(std::move(body));
  return r;
}

api_handler::api_handler(config cfg, data_set const& data, page_token_signer const& signer,
                         page_cache& pages, delete_registry& jobs)
    : cfg_(std::move(cfg)), data_(data), signer_(signer), pages_(pages), jobs_(jobs) {}

api_response api_handler::invalid_argument(std::string_view message) const {
  return error_response(400, "INVALID_ARGUMENT", message, cfg_.mismatched_error_codes ? 500 : 400);
}

parsed_request api_handler::parse(http_request_view const& r) const {
  parsed_request out;
  std::string_view path = r.target;
  if (auto const q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

  if (path == "/_mock/stats") {
    out.route = route_kind::stats;
    if (r.method != "GET") {
      out.rejection = error_response(405, "FAILED_PRECONDITION", "Method not allowed; use GET.", 405);
      out.rejection->headers.emplace_back("Allow", "GET");
    }
    return out;
  }
  auto const api = match_api_path(path);
  if (!api) {
    out.rejection = error_response(404, "NOT_FOUND", "The requested path was not found.", 404);
    return out;
  }
  out.route = route_kind::api;
  out.endpoint = api->first;
  if (r.method != "POST") {
    out.rejection = error_response(405, "FAILED_PRECONDITION", "Method not allowed; use POST.", 405);
    out.rejection->headers.emplace_back("Allow", "POST");
    return out;
  }
  if (!r.api_key || r.api_key->empty()) {
    out.rejection = invalid_argument("Missing required header x-velt-api-key.");
  } else if (!r.auth_token || r.auth_token->empty()) {
    out.rejection = invalid_argument("Missing required header x-velt-auth-token.");
  } else if (*r.api_key != cfg_.api_key) {
    out.rejection = error_response(403, "PERMISSION_DENIED", "The API key is not valid.", 403);
  } else if (*r.auth_token != cfg_.auth_token) {
    out.rejection = error_response(401, "UNAUTHENTICATED", "The auth token is not valid for this API key.", 401);
  } else {
    parse_body(r, out);
  }
  return out;
}

void api_handler::parse_body(http_request_view const& r, parsed_request& out) const {
  json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec, {}, opts);
  if (ec) {
    out.rejection = invalid_argument("The request body is not valid JSON.");
    return;
  }
  auto* data_v = body.is_object() ? body.get_object().if_contains("data") : nullptr;
  if (data_v == nullptr || !data_v->is_object()) {
    out.rejection = invalid_argument("The request body must be {\"data\": {...}}.");
    return;
  }
  // Members the API does not know (what newer SDKs send: veltUserIds, uniqueId, ...) are
  // ignored, as Velt's server does; they are kept only for server::recent_requests.
  out.data = std::move(data_v->get_object());
  json::object const& data = out.data;
  switch (*out.endpoint) {
    case wire::endpoint::get_user_data: {
      auto org = string_member(data, "organizationId");
      auto user = string_member(data, "userId");
      if (!org) {
        out.rejection = invalid_argument("organizationId is required.");
        return;
      }
      if (!user) {
        out.rejection = invalid_argument("userId is required.");
        return;
      }
      out.organization_id = std::move(*org);
      out.users.push_back(std::move(*user));
      out.page = 0;
      auto const* token = data.if_contains("pageToken");
      if (token != nullptr && !token->is_null()) {
        if (!token->is_string() || token->get_string().empty()) {
          out.rejection = invalid_argument("pageToken must be a non-empty string.");
          return;
        }
        out.page = signer_.verify(out.organization_id, out.users.front(), token->get_string());
        if (!out.page || *out.page == 0) {
          out.page.reset();
          out.rejection = invalid_argument("The page token is not valid.");
          return;
        }
        auto const* u = data_.find(out.users.front());
        if (u == nullptr || out.organization_id != data_.organization_id() || *out.page >= u->pages()) {
          out.page.reset();
          out.rejection = invalid_argument("The page token is not valid.");
        }
      }
      return;
    }
    case wire::endpoint::delete_user_data: {
      auto const* users = data.if_contains("userIds");
      auto ids = users != nullptr ? string_array(*users) : std::nullopt;
      if (!ids || ids->empty()) {
        out.rejection = invalid_argument("userIds must be a non-empty array of non-empty strings.");
        return;
      }
      if (ids->size() > max_user_ids) {
        out.rejection = invalid_argument("userIds has more than 1000 entries.");
        return;
      }
      out.users = std::move(*ids);
      if (auto const* orgs = data.if_contains("organizationIds"); orgs != nullptr && !orgs->is_null()) {
        auto o = string_array(*orgs);
        if (!o) {
          out.rejection = invalid_argument("organizationIds must be an array of non-empty strings.");
          return;
        }
        out.organization_ids = std::move(*o);
      }
      return;
    }
    case wire::endpoint::delete_status: {
      auto job = string_member(data, "jobId");
      if (!job) {
        out.rejection = invalid_argument("jobId is required.");
        return;
      }
      out.job_id = std::move(*job);
      return;
    }
  }
}

api_response api_handler::get_user_data(parsed_request const& r, std::chrono::system_clock::time_point now) {
  api_response res;
  res.is_page = true;
  auto const* u = r.organization_id == data_.organization_id() ? data_.find(r.users.front()) : nullptr;
  if (u == nullptr) {
    res.body = pages_.empty_page(data_.unknown_user_end());
  } else if (jobs_.is_deleted(u->id, now)) {
    res.body = pages_.empty_page(u->end);
  } else {
    res.body = pages_.page(*u, r.page.value_or(0));
  }
  return res;
}

api_response api_handler::respond(parsed_request const& r, std::chrono::system_clock::time_point now) {
  if (r.rejection) return *r.rejection;
  if (r.route != route_kind::api || !r.endpoint) {
    return error_response(404, "NOT_FOUND", "The requested path was not found.", 404);
  }
  switch (*r.endpoint) {
    case wire::endpoint::get_user_data: return get_user_data(r, now);
    case wire::endpoint::delete_user_data: {
      std::string const id = jobs_.queue(r.users, r.organization_ids, now);
      std::string body;
      api_response res;
      if (cfg_.delete_shape == delete_envelope::status_code) {
        res.status = 202;
        body = R"({"status":"success","message":"Data deletion process has been initiated.","data":{"jobId":)";
        write_json_string(body, id);
        body += R"(,"tasksCount":)" + std::to_string(jobs_.tasks()) + R"(},"statusCode":202})";
      } else {
        body = R"({"result":{"status":"success","message":"User data deletion job queued.","data":{"jobId":)";
        write_json_string(body, id);
        body += "}}}";
      }
      res.body = share(std::move(body));
      return res;
    }
    case wire::endpoint::delete_status: {
      auto const p = jobs_.status(r.job_id, now);
      if (!p) return error_response(404, "NOT_FOUND", "No deletion job with this id.", 404);
      std::string body = R"({"result":{"status":"success","message":"Data fetched successfully.","data":{"isDeleteCompleted":)";
      body += p->completed ? "true" : "false";
      body += R"(,"tasksLeft":)" + std::to_string(p->tasks_left);
      if (p->last_task_completed_ms) body += R"(,"lastTaskCompletedTime":)" + std::to_string(*p->last_task_completed_ms);
      body += "}}}";
      api_response res;
      res.body = share(std::move(body));
      return res;
    }
  }
  return error_response(500, "INTERNAL", "Unhandled endpoint.", 500);
}

}  // namespace velt::mock::detail
