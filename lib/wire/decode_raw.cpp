// SPDX-License-Identifier: BSL-1.0
// decode_user_data_raw: a page's items as JSON text, without building Boost.JSON values.
//
// A single pass validates the whole body (RFC 8259 grammar, UTF-8, depth) and records where
// each item of each feature starts and ends. The scanner only ever says "yes, this is the
// plain documented success shape" or "not sure": everything unusual (an error envelope, a
// non-2xx status, escaped or repeated envelope keys, an unpaired surrogate escape, a body
// over the limits, invalid JSON) is handed to `decode_user_data`, the reference decoder,
// so errors and odd-but-valid pages come out exactly as in the parsed format.
#include "wire/decode_raw.hpp"
#include "wire/raw_scanner.hpp"

#include <boost/json/serializer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace velt::wire {
namespace {

using namespace raw_scan;

// A page from the reference decoder, turned into the raw form.
user_data_page raw_from_parsed(user_data_page const& parsed) {
  boost::json::serializer sr;
  auto body = std::make_shared<std::string>();
  struct span {
    std::size_t offset, size;
  };
  struct feature_spans {
    std::string name;
    span text;
    std::vector<span> items;
  };
  std::vector<feature_spans> spans;
  char buf[4096];
  for (auto const& member : parsed.data()) {
    auto const* array = member.value().if_array();
    if (array == nullptr) continue;
    auto& f = spans.emplace_back(feature_spans{std::string(member.key()), {body->size(), 0}, {}});
    for (auto const& item : *array) {
      if (!f.items.empty()) *body += ',';
      std::size_t const offset = body->size();
      sr.reset(&item);
      while (!sr.done()) {
        auto const part = sr.read(buf, sizeof buf);
        body->append(part.data(), part.size());
      }
      f.items.push_back(span{offset, body->size() - offset});
    }
    f.text.size = body->size() - f.text.offset;
  }
  // Views are taken once the body no longer grows.
  auto const view = [&](span s) { return std::string_view(body->data() + s.offset, s.size); };
  std::vector<raw_feature> features;
  features.reserve(spans.size());
  for (auto& f : spans) {
    auto& out = features.emplace_back(raw_feature{std::move(f.name), {}, view(f.text)});
    out.items.reserve(f.items.size());
    for (auto const& s : f.items) out.items.push_back(view(s));
  }
  return user_data_page::from_raw(std::move(body), std::move(features), parsed.next_page_token(),
                                  /*compact=*/true, parsed.index());
}

result<user_data_page> from_reference(http_response_view const& r, decode_limits const& limits,
                                      std::chrono::system_clock::time_point now) {
  auto parsed = decode_user_data(r, limits, now);
  if (!parsed) return parsed.error();
  return raw_from_parsed(*parsed);
}

}  // namespace

result<user_data_page> decode_user_data_raw_owned(http_response_view const& r, std::string&& body,
                                                  decode_limits const& limits,
                                                  std::chrono::system_clock::time_point now) {
  if (r.status >= 200 && r.status <= 299 && body.size() <= limits.max_body_bytes) {
    auto owned = std::make_shared<std::string const>(std::move(body));
    scanner sc(*owned, limits.max_depth);
    if (auto page = sc.scan_page()) {
      std::optional<std::string> token;
      if (page->token && !page->token->empty()) token.emplace(*page->token);
      return user_data_page::from_raw(std::move(owned), std::move(page->features),
                                      std::move(token), page->compact);
    }
    http_response_view view = r;
    view.body = *owned;
    return from_reference(view, limits, now);
  }
  return from_reference(r, limits, now);
}

result<user_data_page> decode_user_data_raw(http_response_view const& r,
                                            decode_limits const& limits,
                                            std::chrono::system_clock::time_point now) {
  if (r.status < 200 || r.status > 299 || r.body.size() > limits.max_body_bytes)
    return from_reference(r, limits, now);
  return decode_user_data_raw_owned(r, std::string(r.body), limits, now);
}

void append_compact_json(std::string& out, std::string_view json) {
  out.reserve(out.size() + json.size());
  std::size_t run = 0;  // start of the bytes not copied yet
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char const c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      out.append(json.data() + run, i - run);
      run = i + 1;
    }
  }
  out.append(json.data() + run, json.size() - run);
}

}  // namespace velt::wire
