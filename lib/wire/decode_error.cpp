// SPDX-License-Identifier: BSL-1.0
// Classifying a response that is not a success: the JSON error envelope (status from the
// body's canonical name first, the HTTP status second; the numeric "code" ignored), other
// JSON shapes, and non-JSON bodies from gateways.
#include "wire/response_error.hpp"

#include <velt/retry_after.hpp>

namespace velt::wire::detail {
namespace {

namespace json = boost::json;

std::string_view trim(std::string_view s) noexcept {
  auto const is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// "HTTP 502 Bad Gateway" / "HTTP 599".
std::string http_label(unsigned http_status) {
  std::string label = "HTTP " + std::to_string(http_status);
  if (auto const reason = reason_phrase(http_status); !reason.empty()) {
    label += ' ';
    label += reason;
  }
  return label;
}

void add_response_facts(error_details& d, http_response_view const& r,
                        std::chrono::system_clock::time_point now) {
  d.http_status = r.status;
  if (!r.retry_after.empty()) d.retry_after = parse_retry_after(r.retry_after, now);
}

// A canonical status named by a JSON value, case-insensitively; OK does not name an error.
std::optional<status> named_status(json::value const* v) noexcept {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  json::string const& s = v->get_string();
  if (s.size() > 32) return std::nullopt;
  char upper[32];
  for (std::size_t i = 0; i < s.size(); ++i)
    upper[i] = s[i] >= 'a' && s[i] <= 'z' ? static_cast<char>(s[i] - 'a' + 'A') : s[i];
  auto const st = status_from_string(std::string_view(upper, s.size()));
  if (st == status::ok) return std::nullopt;
  return st;
}

std::string_view string_member(json::object const& o, std::string_view key) noexcept {
  if (auto const* v = o.if_contains(key); v != nullptr && v->is_string()) return v->get_string();
  return {};
}

json::object const* object_member(json::object const& o, std::string_view key) noexcept {
  if (auto const* v = o.if_contains(key); v != nullptr) return v->if_object();
  return nullptr;
}

}  // namespace

error_details response_error(errc e, std::string message, http_response_view const& r,
                             std::chrono::system_clock::time_point now) {
  auto d = make_error_details(make_error_code(e), std::move(message));
  add_response_facts(d, r, now);
  return d;
}

error_details server_error(status s, std::string message, http_response_view const& r,
                           std::chrono::system_clock::time_point now) {
  auto d = make_error_details(make_error_code(s), std::move(message));
  add_response_facts(d, r, now);
  return d;
}

bool is_error_envelope(json::object const& root) noexcept {
  auto const* e = root.if_contains("error");
  return e != nullptr && !e->is_null();
}

std::string_view kind_name(json::value const& v) noexcept {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

error_details error_from_json(json::object const& root, http_response_view const& r,
                              std::chrono::system_clock::time_point now) {
  std::optional<status> named;
  std::string_view message;
  // {"error": {"message", "status", "code", "details"}} (Firebase / gRPC style), or
  // {"error": "text"}.
  if (auto const* e = root.if_contains("error"); e != nullptr) {
    if (auto const* eo = e->if_object(); eo != nullptr) {
      named = named_status(eo->if_contains("status"));
      message = string_member(*eo, "message");
    } else if (e->is_string()) {
      message = e->get_string();
    }
  }
  // {"status": "...", "message": "...", "statusCode": n} (the delete endpoint's top-level
  // style), or the same inside "result".
  for (json::object const* o : {&root, object_member(root, "result")}) {
    if (o == nullptr) continue;
    if (!named) named = named_status(o->if_contains("status"));
    if (message.empty()) message = string_member(*o, "message");
  }
  status const s = named.value_or(status_from_http(r.status));
  // The server's own text, but bounded: a message of megabytes must not become an error
  // message (and log line) of megabytes.
  if (!message.empty()) return server_error(s, message_excerpt(message), r, now);
  return server_error(s, http_label(r.status) + ": " + body_excerpt(r.body), r, now);
}

}  // namespace velt::wire::detail

namespace velt::wire {

error_details decode_error(http_response_view const& r, decode_limits const& limits,
                           std::chrono::system_clock::time_point now) {
  using namespace detail;
  if (r.status >= 300 && r.status < 400)
    return response_error(errc::unexpected_redirect,
                          "unexpected redirect (" + http_label(r.status) +
                              "); redirects are not followed",
                          r, now);
  std::string_view const body = trim(r.body);
  status const by_http = status_from_http(r.status);
  if (body.empty())
    return server_error(by_http, "HTTP " + std::to_string(r.status) + " with an empty body", r,
                        now);
  if (body.front() == '{') {
    if (auto parsed = parse_json(r.body, limits); parsed && parsed->is_object())
      return error_from_json(parsed->get_object(), r, now);
  }
  std::string excerpt = body_excerpt(r.body);
  if (excerpt.empty()) return server_error(by_http, http_label(r.status), r, now);
  return server_error(by_http, http_label(r.status) + ": " + excerpt, r, now);
}

}  // namespace velt::wire
