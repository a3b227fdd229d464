// SPDX-License-Identifier: BSL-1.0
#include "delivery.hpp"

#include "compression.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace velt::mock::detail {

namespace {

constexpr std::size_t reset_prefix_max = 16 * 1024;
constexpr std::chrono::milliseconds reset_pause{50};
constexpr std::chrono::milliseconds default_drip_pause{20};
constexpr std::size_t default_drip_parts = 16;

std::string_view reason(unsigned status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

std::string_view canonical_for_http(unsigned status) noexcept {
  switch (status) {
    case 502:
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

void add_retry_after(api_response& r, std::string const& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return;
  if (value.front() == '+') {
    long long const seconds = std::strtoll(value.c_str() + 1, nullptr, 10);
    r.headers.emplace_back("Retry-After", http_date(now + std::chrono::seconds{seconds}));
  } else {
    r.headers.emplace_back("Retry-After", value);
  }
}

}  // namespace

std::string http_date(std::chrono::system_clock::time_point t) {
  static constexpr char const* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t const tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool replaces_response(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::throttle_429:
    case fault_kind::http_error_json:
    case fault_kind::http_error_html:
    case fault_kind::resource_exhausted:
    case fault_kind::unavailable: return true;
    default: return false;
  }
}

bool transforms_response(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::malformed_json:
    case fault_kind::gzip_bomb:
    case fault_kind::gzip_corrupt:
    case fault_kind::gzip_truncated:
    case fault_kind::unsupported_encoding: return true;
    default: return false;
  }
}

api_response fault_response(fault const& f, api_response const* real, std::chrono::system_clock::time_point now) {
  api_response r;
  switch (f.kind) {
    case fault_kind::throttle_429:
      r.status = 429;
      r.content_type = "text/plain; charset=utf-8";
      r.body = std::make_shared<std::string const>("Too Many Requests\n");
      add_retry_after(r, f.retry_after, now);
      return r;
    case fault_kind::resource_exhausted:
      r = error_response(429, "RESOURCE_EXHAUSTED", "Quota exceeded for this API key; retry later.", 429);
      add_retry_after(r, f.retry_after, now);
      return r;
    case fault_kind::http_error_json:
      return error_response(f.http_status, canonical_for_http(f.http_status),
                            f.http_status >= 500 ? "The server encountered a temporary error."
                                                 : "The request was refused.",
                            static_cast<int>(f.http_status));
    case fault_kind::unavailable:
      return error_response(f.http_status, "UNAVAILABLE", "The service is currently unavailable.",
                            static_cast<int>(f.http_status));
    case fault_kind::http_error_html: {
      std::string const title = std::to_string(f.http_status) + " " + std::string(reason(f.http_status));
      r.status = f.http_status;
      r.content_type = "text/html; charset=UTF-8";
      r.body = std::make_shared<std::string const>(
          "<!DOCTYPE html>\n<html lang=en>\n<head><meta charset=utf-8><title>" + title +
          "</title></head>\n<body><h1>" + title +
          "</h1>\n<p>The server encountered a temporary error and could not complete your request."
          "</p><p>Please try again in 30 seconds.</p></body>\n</html>\n");
      return r;
    }
    case fault_kind::malformed_json: {
      r.status = 200;
      std::string const& full = real != nullptr && real->body ? *real->body : std::string(R"({"result":{})");
      r.body = std::make_shared<std::string const>(full.substr(0, std::max<std::size_t>(1, full.size() / 2)));
      return r;
    }
    case fault_kind::gzip_bomb:
    case fault_kind::gzip_corrupt:
    case fault_kind::gzip_truncated:
    case fault_kind::unsupported_encoding: {
      if (real != nullptr) r = *real;
      static std::shared_ptr<std::string const> const none = std::make_shared<std::string const>("{}");
      std::string const& body = r.body ? *r.body : *none;
      if (f.kind == fault_kind::gzip_bomb) {
        r.body = gzip_bomb();
      } else if (f.kind == fault_kind::gzip_corrupt) {
        std::string gz = gzip_compress(body);
        gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0x5a);  // the CRC-32 trailer
        r.body = std::make_shared<std::string const>(std::move(gz));
      } else if (f.kind == fault_kind::gzip_truncated) {
        std::string gz = gzip_compress(body);
        gz.resize(gz.size() / 2);
        r.body = std::make_shared<std::string const>(std::move(gz));
      }
      r.headers.emplace_back("Content-Encoding", f.kind == fault_kind::unsupported_encoding ? "br" : "gzip");
      return r;
    }
    default:
      return real != nullptr ? *real : r;
  }
}

std::string chunk_frame(std::string const& body) {
  std::string out;
  out.reserve(body.size() + body.size() / 512 + 64);
  std::size_t pos = 0;
  std::size_t size = 1000;
  char line[24];
  while (pos < body.size()) {
    std::size_t const n = std::min(size, body.size() - pos);
    std::snprintf(line, sizeof line, "%zx\r\n", n);
    out += line;
    out.append(body, pos, n);
    out += "\r\n";
    pos += n;
    size = size * 7 % 9973 + 500;  // varying sizes, 500..10472 bytes
  }
  out += "0\r\n\r\n";
  return out;
}

delivery_plan plan_delivery(api_response const& r, std::optional<fault> const& action, bool keep_alive,
                            bool http10) {
  using op = delivery_step::op;
  delivery_plan p;
  fault_kind const kind = action ? action->kind : fault_kind::latency;  // latency: plain delivery
  static std::shared_ptr<std::string const> const empty = std::make_shared<std::string const>();
  shared_body const body = r.body ? r.body : empty;
  std::size_t const n = body->size();

  if (kind == fault_kind::close_before_response) {
    p.body = body;
    p.steps.push_back({op::close_abrupt});
    p.keep_alive = false;
    p.complete = false;
    return p;
  }
  if (kind == fault_kind::connection_close || kind == fault_kind::truncated_body ||
      kind == fault_kind::reset_mid_body) {
    keep_alive = false;
  }

  std::string& h = p.head;
  h.reserve(256);
  h += http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += reason(r.status);
  h += "\r\nContent-Type: ";
  h += r.content_type;
  h += "\r\n";
  if (kind == fault_kind::chunked && !http10) {
    h += "Transfer-Encoding: chunked\r\n";
    p.body = std::make_shared<std::string const>(chunk_frame(*body));
  } else {
    h += "Content-Length: " + std::to_string(n) + "\r\n";
    p.body = body;
  }
  for (auto const& [name, value] : r.headers) h += name + ": " + value + "\r\n";
  if (!keep_alive && kind != fault_kind::reset_mid_body) h += "Connection: close\r\n";
  if (keep_alive && http10) h += "Connection: keep-alive\r\n";
  if (kind == fault_kind::oversized_headers) {
    // Many lines of at most 4000 bytes: a single value over 64 KiB cannot even be stored by
    // Beast's fields (it throws), which would test Beast rather than the client.
    static constexpr std::string_view pattern = "velt-mock-padding-";
    std::size_t left = action->header_bytes;
    for (std::size_t line = 0; left > 0; ++line) {
      std::size_t const n = std::min<std::size_t>(left, 4000);
      h += "X-Mock-Padding-" + std::to_string(line) + ": ";
      for (std::size_t i = 0; i < n; ++i) h += pattern[i % pattern.size()];
      h += "\r\n";
      left -= n;
    }
  }
  h += "\r\n";
  p.keep_alive = keep_alive;

  std::size_t const head = h.size();
  std::size_t const total = p.total();
  switch (kind) {
    case fault_kind::truncated_body:
      p.steps.push_back({op::send, 0, head + n / 2});
      p.steps.push_back({op::close_clean});
      p.complete = false;
      return p;
    case fault_kind::reset_mid_body:
      p.steps.push_back({op::send, 0, head + std::min(n / 2, reset_prefix_max)});
      p.steps.push_back({op::pause, 0, 0, reset_pause});
      p.steps.push_back({op::reset});
      p.complete = false;
      return p;
    case fault_kind::slow_drip: {
      auto const pause = action->latency.count() > 0 ? action->latency : default_drip_pause;
      std::size_t const piece = action->drip_bytes > 0 ? action->drip_bytes
                                                       : std::max<std::size_t>(1, (n + default_drip_parts - 1) / default_drip_parts);
      p.steps.push_back({op::send, 0, head});
      for (std::size_t pos = head; pos < total; pos += piece) {
        p.steps.push_back({op::pause, 0, 0, pause});
        p.steps.push_back({op::send, pos, std::min(total, pos + piece)});
      }
      break;
    }
    default:
      p.steps.push_back({op::send, 0, total});
      break;
  }
  if (!keep_alive) p.steps.push_back({op::close_clean});
  return p;
}

}  // namespace velt::mock::detail
