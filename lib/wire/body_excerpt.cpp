// SPDX-License-Identifier: BSL-1.0
// Short, printable excerpts of non-JSON error bodies (HTML or text from a gateway).
#include "wire/response_error.hpp"
#include "wire/utf8.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace velt::wire::detail {
namespace {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(s[i]) != prefix[i]) return false;
  return true;
}

std::size_t find_nocase(std::string_view s, std::string_view needle, std::size_t from) noexcept {
  for (std::size_t i = from; i + needle.size() <= s.size(); ++i)
    if (starts_with_nocase(s.substr(i), needle)) return i;
  return std::string_view::npos;
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> entities{{
    {"&amp;", "&"},
    {"&lt;", "<"},
    {"&gt;", ">"},
    {"&quot;", "\""},
    {"&#39;", "'"},
    {"&apos;", "'"},
    {"&nbsp;", " "},
}};

// Collects visible text, collapsing whitespace and counting code points.
class excerpt_builder {
 public:
  explicit excerpt_builder(std::size_t max_chars) : max_(max_chars) {}

  bool full() const noexcept { return truncated_; }

  void space() {
    if (!out_.empty() && out_.back() != ' ') pending_space_ = true;
  }

  // One code point (already validated UTF-8, or one replacement byte).
  void code_point(std::string_view bytes) {
    if (truncated_) return;
    if (chars_ == max_) {
      truncated_ = true;
      return;
    }
    if (pending_space_) {
      if (chars_ + 1 == max_) {
        truncated_ = true;
        return;
      }
      out_ += ' ';
      ++chars_;
      pending_space_ = false;
    }
    out_.append(bytes);
    ++chars_;
  }

  std::string finish() && {
    if (truncated_) out_ += "...";
    return std::move(out_);
  }

 private:
  std::string out_;
  std::size_t chars_ = 0;
  std::size_t max_;
  bool pending_space_ = false;
  bool truncated_ = false;
};

// Emits the text at body[i...], one code point; returns the bytes consumed.
std::size_t emit_text(std::string_view rest, excerpt_builder& out) {
  std::size_t const n = utf8_sequence_length(rest);
  if (n == 0) {
    out.code_point("?");
    return 1;
  }
  auto const b0 = static_cast<unsigned char>(rest[0]);
  bool const c0_control = n == 1 && (b0 < 0x20 || b0 == 0x7F);
  bool const c1_control = n == 2 && b0 == 0xC2 && static_cast<unsigned char>(rest[1]) < 0xA0;
  if (c0_control || c1_control || b0 == ' ')
    out.space();
  else
    out.code_point(rest.substr(0, n));
  return n;
}

// Skips an HTML construct starting at body[i] == '<'; returns the index after it.
std::size_t skip_markup(std::string_view body, std::size_t i) {
  auto skip_past = [&](std::string_view end, std::size_t from) {
    std::size_t const at = find_nocase(body, end, from);
    return at == std::string_view::npos ? body.size() : at + end.size();
  };
  std::string_view const rest = body.substr(i);
  if (rest.starts_with("<!--")) return skip_past("-->", i + 4);
  for (std::string_view raw : {std::string_view("script"), std::string_view("style")}) {
    if (starts_with_nocase(rest.substr(1), raw)) {
      std::string const close = "</" + std::string(raw);
      std::size_t const end = skip_past(close, i + 1);
      return end >= body.size() ? end : skip_past(">", end);
    }
  }
  return skip_past(">", i + 1);
}

}  // namespace

std::string body_excerpt(std::string_view body, std::size_t max_chars) {
  excerpt_builder out(max_chars);
  std::size_t first = 0;
  while (first < body.size() &&
         (body[first] == ' ' || body[first] == '\t' || body[first] == '\r' || body[first] == '\n'))
    ++first;
  bool const html = first < body.size() && body[first] == '<';
  for (std::size_t i = first; i < body.size() && !out.full();) {
    if (html && body[i] == '<') {
      i = skip_markup(body, i);
      out.space();
      continue;
    }
    if (html && body[i] == '&') {
      bool decoded = false;
      for (auto const& [name, text] : entities) {
        if (body.substr(i).starts_with(name)) {
          if (text == " ")
            out.space();
          else
            out.code_point(text);
          i += name.size();
          decoded = true;
          break;
        }
      }
      if (decoded) continue;
    }
    i += emit_text(body.substr(i), out);
  }
  return std::move(out).finish();
}

std::string message_excerpt(std::string_view message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  // Whole code points only (an invalid byte counts as one), so a valid message stays valid.
  std::size_t keep = 0;
  while (keep < message.size()) {
    std::size_t const n = std::max<std::size_t>(1, utf8_sequence_length(message.substr(keep)));
    if (keep + n > max_bytes) break;
    keep += n;
  }
  std::string out(message.substr(0, keep));
  out += "... (";
  out += std::to_string(message.size());
  out += " bytes)";
  return out;
}

std::string_view reason_phrase(unsigned http_status) noexcept {
  switch (http_status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return {};
  }
}

}  // namespace velt::wire::detail
