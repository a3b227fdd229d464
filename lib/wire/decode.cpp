// SPDX-License-Identifier: BSL-1.0
// Decoding the success responses of the three endpoints into typed values.
#include "wire/response_error.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

namespace velt::wire {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;
using detail::kind_name;

// The response being decoded, with what every error about it needs.
struct decoding {
  http_response_view const& response;
  decode_limits const& limits;
  system_clock::time_point now;

  error_details malformed(std::string message) const {
    return detail::response_error(errc::malformed_response, std::move(message), response, now);
  }
};

std::string quoted(std::string_view key) {
  std::string s;
  s.reserve(key.size() + 2);
  s += '"';
  s += key;
  s += '"';
  return s;
}

// The root object of a 2xx JSON body; every other response becomes its error.
result<json::object> success_root(decoding const& d) {
  auto const& r = d.response;
  if (r.status < 200 || r.status > 299) return decode_error(r, d.limits, d.now);
  auto parsed = parse_json(r.body, d.limits);
  if (!parsed) {
    // The message names the JSON problem only: a 2xx body may hold personal data.
    auto e = parsed.error();
    auto out = detail::response_error(errc::malformed_response, std::move(e.message), r, d.now);
    out.code = e.code;  // keeps response_too_large / response_too_deep
    out.status = e.status;
    if (!r.content_type.empty() && e.code == make_error_code(errc::malformed_response))
      out.message += " (Content-Type: " + detail::body_excerpt(r.content_type, 80) + ")";
    return out;
  }
  if (!parsed->is_object())
    return d.malformed("response body is " + std::string(kind_name(*parsed)) +
                       ", not a JSON object");
  json::object& root = parsed->get_object();
  if (detail::is_error_envelope(root)) return detail::error_from_json(root, r, d.now);
  return std::move(root);
}

// `"status"` of an envelope: absent or "success" (any case) is a success.
std::optional<error_details> check_envelope_status(json::object const& envelope,
                                                   decoding const& d) {
  auto const* s = envelope.if_contains("status");
  if (s == nullptr) return std::nullopt;
  if (auto const* str = s->if_string(); str != nullptr) {
    std::string_view const v = *str;
    if (v.size() == 7) {
      bool success = true;
      for (std::size_t i = 0; i < 7; ++i)
        success = success && (v[i] | 0x20) == "success"[i];
      if (success) return std::nullopt;
    }
  }
  std::string message = "response status is ";
  if (s->is_string() || s->is_number() || s->is_bool() || s->is_null())
    message += detail::body_excerpt(json::serialize(*s), 40);
  else
    message += kind_name(*s);
  message += ", not \"success\"";
  if (auto const* m = envelope.if_contains("message"); m != nullptr && m->is_string())
    message += ": " + detail::message_excerpt(std::string_view(m->get_string()));
  return d.malformed(std::move(message));
}

// The object carrying status/message/data: `result` when present, else the root itself
// (the delete endpoint's documented top-level envelope).
result<json::object*> find_envelope(json::object& root, bool allow_top_level,
                                    decoding const& d) {
  if (auto* v = root.if_contains("result"); v != nullptr) {
    if (auto* o = v->if_object(); o != nullptr) return o;
    return d.malformed("response \"result\" is " + std::string(kind_name(*v)) +
                       ", not an object");
  }
  if (allow_top_level && root.contains("data")) return &root;
  return d.malformed(allow_top_level
                         ? "response has neither a \"result\" object nor a top-level \"data\""
                         : "response has no \"result\" object");
}

result<json::object*> find_data(json::object& envelope, decoding const& d) {
  auto* v = envelope.if_contains("data");
  if (v == nullptr) return d.malformed("response has no \"data\" object");
  if (auto* o = v->if_object(); o != nullptr) return o;
  return d.malformed("response \"data\" is " + std::string(kind_name(*v)) + ", not an object");
}

// An integral JSON number as int64. Integral doubles (5.0, 1.748972106739e12) count: the
// server is JavaScript, where 5 and 5.0 are the same number.
std::optional<std::int64_t> as_int64(json::value const& v) noexcept {
  if (auto const* i = v.if_int64(); i != nullptr) return *i;
  if (auto const* u = v.if_uint64(); u != nullptr) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return static_cast<std::int64_t>(*u);
    return std::nullopt;
  }
  if (auto const* x = v.if_double(); x != nullptr) {
    constexpr double two63 = 9223372036854775808.0;
    if (std::isfinite(*x) && std::trunc(*x) == *x && *x >= -two63 && *x < two63)
      return static_cast<std::int64_t>(*x);
  }
  return std::nullopt;
}

// An optional integer member: absent or null → nullopt; otherwise an integer >= min_value.
result<std::optional<std::int64_t>> optional_integer(json::object const& o, std::string_view key,
                                                     std::int64_t min_value, decoding const& d) {
  auto const* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
  auto const i = as_int64(*v);
  if (!i && v->is_number())
    return d.malformed("response " + quoted(key) + " is not an integer in the int64 range");
  if (!i)
    return d.malformed("response " + quoted(key) + " is " + std::string(kind_name(*v)) +
                       ", not an integer");
  if (*i < min_value) return d.malformed("response " + quoted(key) + " is negative");
  return std::optional<std::int64_t>{*i};
}

std::string string_or_empty(json::object const& o, std::string_view key) {
  if (auto const* v = o.if_contains(key); v != nullptr && v->is_string())
    return std::string(v->get_string());
  return {};
}

}  // namespace

result<user_data_page> decode_user_data(http_response_view const& r, decode_limits const& limits,
                                        system_clock::time_point now) {
  decoding const d{r, limits, now};
  auto root = success_root(d);
  if (!root) return root.error();
  auto envelope = find_envelope(*root, /*allow_top_level=*/false, d);
  if (!envelope) return envelope.error();
  if (auto e = check_envelope_status(**envelope, d)) return *e;
  auto data = find_data(**envelope, d);
  if (!data) return data.error();

  for (auto const& member : **data) {
    if (member.value().is_array()) continue;
    // A feature may be missing from a page (an empty one); a null feature, as a JavaScript
    // server may write an empty one, is the same: kept in "data" as it came, no items.
    if (member.value().is_null()) continue;
    // The contract puts the token in "result"; one found in "data" is kept verbatim with
    // the rest of "data" but is neither a feature nor used for paging.
    if (member.key() == "nextPageToken" && member.value().is_string()) continue;
    return d.malformed("response feature " + quoted(member.key()) + " is " +
                       std::string(kind_name(member.value())) + ", not an array");
  }

  std::optional<std::string> token;
  if (auto const* t = (*envelope)->if_contains("nextPageToken"); t != nullptr && !t->is_null()) {
    auto const* s = t->if_string();
    if (s == nullptr)
      return d.malformed("response \"nextPageToken\" is " + std::string(kind_name(*t)) +
                         ", not a string");
    if (!s->empty()) token.emplace(*s);
  }
  return user_data_page(std::move(**data), std::move(token));
}

namespace {
// The delete endpoints' answers: a success body whose envelope (`result`, or the top level:
// the delete docs show both) has a success status and a `data` object. Calls
// `read(envelope, data)` with them.
template <class T, class Read>
result<T> read_job_data(decoding const& d, Read read) {
  auto root = success_root(d);
  if (!root) return root.error();
  auto envelope = find_envelope(*root, /*allow_top_level=*/true, d);
  if (!envelope) return envelope.error();
  if (auto e = check_envelope_status(**envelope, d)) return *e;
  auto data = find_data(**envelope, d);
  if (!data) return data.error();
  return read(static_cast<json::object const&>(**envelope), static_cast<json::object const&>(**data));
}
}  // namespace

result<delete_job> decode_delete_job(http_response_view const& r, decode_limits const& limits,
                                     system_clock::time_point now) {
  decoding const d{r, limits, now};
  return read_job_data<delete_job>(d, [&d](json::object const& envelope,
                                           json::object const& data) -> result<delete_job> {
    delete_job job;
    auto const* id = data.if_contains("jobId");
    if (id == nullptr) return d.malformed("response has no \"jobId\"");
    if (!id->is_string())
      return d.malformed("response \"jobId\" is " + std::string(kind_name(*id)) +
                         ", not a string");
    if (id->get_string().empty()) return d.malformed("response \"jobId\" is empty");
    job.job_id = id->get_string();

    // tasksCount is informational: one it cannot read is left out rather than losing the
    // jobId of a job the server has queued (a delete is never resent).
    auto tasks = optional_integer(data, "tasksCount", 0, d);
    if (tasks) job.tasks_count = *tasks;
    job.message = string_or_empty(envelope, "message");
    return job;
  });
}

result<delete_status> decode_delete_status(http_response_view const& r,
                                           decode_limits const& limits,
                                           system_clock::time_point now) {
  decoding const d{r, limits, now};
  return read_job_data<delete_status>(d, [&d](json::object const&,
                                              json::object const& data) -> result<delete_status> {
    delete_status st;
    auto const* done = data.if_contains("isDeleteCompleted");
    if (done == nullptr) return d.malformed("response has no \"isDeleteCompleted\"");
    if (!done->is_bool())
      return d.malformed("response \"isDeleteCompleted\" is " + std::string(kind_name(*done)) +
                         ", not a boolean");
    st.is_delete_completed = done->get_bool();

    auto left = optional_integer(data, "tasksLeft", 0, d);
    if (!left) return left.error();
    if (!*left && !st.is_delete_completed)
      return d.malformed("response has no \"tasksLeft\" for a job that is not completed");
    st.tasks_left = left->value_or(0);

    // Informational too: an unreadable time is left out; the poll still says how far the
    // job is.
    auto last = optional_integer(data, "lastTaskCompletedTime",
                                 std::numeric_limits<std::int64_t>::min(), d);
    if (last) st.last_task_completed_time = *last;
    return st;
  });
}

}  // namespace velt::wire
