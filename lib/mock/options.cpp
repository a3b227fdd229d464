// SPDX-License-Identifier: BSL-1.0
// Names of the option enums, user ids, and the compact fault spec syntax.
#include <velt/mock/options.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace velt::mock {

namespace {

constexpr std::array<std::pair<fault_kind, std::string_view>, 18> fault_names = {{
    {fault_kind::latency, "latency"},
    {fault_kind::throttle_429, "throttle_429"},
    {fault_kind::http_error_json, "http_error_json"},
    {fault_kind::http_error_html, "http_error_html"},
    {fault_kind::resource_exhausted, "resource_exhausted"},
    {fault_kind::unavailable, "unavailable"},
    {fault_kind::close_before_response, "close_before_response"},
    {fault_kind::reset_mid_body, "reset_mid_body"},
    {fault_kind::truncated_body, "truncated_body"},
    {fault_kind::malformed_json, "malformed_json"},
    {fault_kind::slow_drip, "slow_drip"},
    {fault_kind::connection_close, "connection_close"},
    {fault_kind::chunked, "chunked"},
    {fault_kind::oversized_headers, "oversized_headers"},
    {fault_kind::gzip_bomb, "gzip_bomb"},
    {fault_kind::gzip_corrupt, "gzip_corrupt"},
    {fault_kind::gzip_truncated, "gzip_truncated"},
    {fault_kind::unsupported_encoding, "unsupported_encoding"},
}};

constexpr std::array<std::pair<wire::endpoint, std::string_view>, 3> endpoint_names = {{
    {wire::endpoint::get_user_data, "get"},
    {wire::endpoint::delete_user_data, "delete"},
    {wire::endpoint::delete_status, "status"},
}};

template <class T>
T number(std::string_view key, std::string_view value) {
  T out{};
  auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    throw std::invalid_argument("fault spec: " + std::string(key) + "=" + std::string(value) + " is not a number");
  }
  return out;
}

double probability(std::string_view value) {
  // from_chars for double is available, but keep the message uniform.
  double p = 0;
  auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), p);
  if (ec != std::errc{} || end != value.data() + value.size() || !(p >= 0.0 && p <= 1.0)) {
    throw std::invalid_argument("fault spec: p=" + std::string(value) + " is not a probability in [0, 1]");
  }
  return p;
}

/// Splits "a=1,b=\"x, y\"" into fields at commas outside double quotes.
std::vector<std::string> split_fields(std::string_view spec) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (char c : spec) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) throw std::invalid_argument("fault spec: unbalanced double quote");
  return fields;
}

}  // namespace

std::string user_id(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "user-%04zu", n);
  return buf;
}

std::string_view to_string(fault_kind k) noexcept {
  for (auto const& [kind, name] : fault_names) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::optional<fault_kind> fault_kind_from_string(std::string_view name) noexcept {
  for (auto const& [kind, n] : fault_names) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(end_of_data e) noexcept {
  switch (e) {
    case end_of_data::absent: return "absent";
    case end_of_data::null: return "null";
    case end_of_data::empty: return "empty";
    case end_of_data::mixed: return "mixed";
  }
  return "unknown";
}

std::optional<end_of_data> end_of_data_from_string(std::string_view name) noexcept {
  for (auto e : {end_of_data::absent, end_of_data::null, end_of_data::empty, end_of_data::mixed}) {
    if (to_string(e) == name) return e;
  }
  return std::nullopt;
}

std::string_view to_string(delete_envelope e) noexcept {
  return e == delete_envelope::status_code ? "status_code" : "result";
}

std::optional<delete_envelope> delete_envelope_from_string(std::string_view name) noexcept {
  if (name == "status_code") return delete_envelope::status_code;
  if (name == "result") return delete_envelope::result;
  return std::nullopt;
}

fault parse_fault(std::string_view spec) {
  fault f;
  bool have_kind = false;
  auto const fields = split_fields(spec);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string_view const field = fields[i];
    auto const eq = field.find('=');
    if (eq == std::string_view::npos) {
      if (i != 0) throw std::invalid_argument("fault spec: '" + std::string(field) + "' is not key=value");
      auto const k = fault_kind_from_string(field);
      if (!k) throw std::invalid_argument("fault spec: unknown fault kind '" + std::string(field) + "'");
      f.kind = *k;
      have_kind = true;
      continue;
    }
    std::string_view const key = field.substr(0, eq);
    std::string_view const value = field.substr(eq + 1);
    if (key == "kind") {
      auto const k = fault_kind_from_string(value);
      if (!k) throw std::invalid_argument("fault spec: unknown fault kind '" + std::string(value) + "'");
      f.kind = *k;
      have_kind = true;
    } else if (key == "p") {
      f.probability = probability(value);
    } else if (key == "user") {
      if (value.empty()) throw std::invalid_argument("fault spec: user is empty");
      f.user_id = std::string(value);
    } else if (key == "page") {
      f.page_index = number<std::size_t>(key, value);
    } else if (key == "nth") {
      f.nth_request = number<std::uint64_t>(key, value);
    } else if (key == "times") {
      f.max_times = number<std::uint64_t>(key, value);
    } else if (key == "endpoint") {
      bool found = false;
      for (auto const& [e, name] : endpoint_names) {
        if (name == value) {
          f.endpoint = e;
          found = true;
        }
      }
      if (!found) throw std::invalid_argument("fault spec: endpoint must be get, delete or status");
    } else if (key == "latency") {
      f.latency = std::chrono::milliseconds{number<std::int64_t>(key, value)};
    } else if (key == "jitter") {
      f.jitter = std::chrono::milliseconds{number<std::int64_t>(key, value)};
    } else if (key == "status") {
      f.http_status = number<unsigned>(key, value);
      if (f.http_status < 100 || f.http_status > 599) throw std::invalid_argument("fault spec: status must be in 100..599");
    } else if (key == "retry_after") {
      f.retry_after = value == "none" ? std::string() : std::string(value);
    } else if (key == "drip_bytes") {
      f.drip_bytes = number<std::size_t>(key, value);
    } else if (key == "header_bytes") {
      f.header_bytes = number<std::size_t>(key, value);
    } else {
      throw std::invalid_argument("fault spec: unknown key '" + std::string(key) + "'");
    }
  }
  if (!have_kind) throw std::invalid_argument("fault spec: no kind given");
  if (f.latency.count() < 0 || f.jitter.count() < 0) throw std::invalid_argument("fault spec: negative latency or jitter");
  return f;
}

std::string to_string(fault const& f) {
  std::string s = "kind=" + std::string(to_string(f.kind));
  auto add = [&s](std::string_view key, std::string const& value) {
    s += ',';
    s += key;
    s += '=';
    s += value.find(',') != std::string::npos ? '"' + value + '"' : value;
  };
  if (f.probability != 1.0) {
    char buf[32];
    auto const [end, ec] = std::to_chars(buf, buf + sizeof buf, f.probability);
    (void)ec;
    add("p", std::string(buf, end));
  }
  if (f.user_id) add("user", *f.user_id);
  if (f.page_index) add("page", std::to_string(*f.page_index));
  if (f.nth_request) add("nth", std::to_string(*f.nth_request));
  if (f.max_times) add("times", std::to_string(*f.max_times));
  if (f.endpoint) {
    for (auto const& [e, name] : endpoint_names) {
      if (e == *f.endpoint) add("endpoint", std::string(name));
    }
  }
  if (f.latency.count() != 0) add("latency", std::to_string(f.latency.count()));
  if (f.jitter.count() != 0) add("jitter", std::to_string(f.jitter.count()));
  if (f.http_status != 503) add("status", std::to_string(f.http_status));
  if (f.retry_after != "1") add("retry_after", f.retry_after.empty() ? std::string("none") : f.retry_after);
  if (f.drip_bytes != 0) add("drip_bytes", std::to_string(f.drip_bytes));
  if (f.header_bytes != 100 * 1024) add("header_bytes", std::to_string(f.header_bytes));
  return s;
}

}  // namespace velt::mock
