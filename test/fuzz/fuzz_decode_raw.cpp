// SPDX-License-Identifier: BSL-1.0
// Differential fuzzer of decode_user_data_raw against decode_user_data (the reference):
// for any body and limits, both fail with the same error, or both give the same features,
// items and token. The one allowed difference: the raw form keeps numbers beyond the range
// of a double, which the parsed form refuses (malformed_response).
//
// Input: [flags: 1 byte][body: the rest]; flags & 7 picks max_depth (1..8, or 64), bit 3
// wraps the body in the documented envelope (so that items get most of the mutations).
#include "fuzz_support.hpp"

#include <velt/wire.hpp>

#include <chrono>

namespace {

using namespace velt;
using velt::fuzz::check;

boost::json::object raw_as_object(user_data_page const& page, wire::decode_limits const& limits) {
  boost::json::object o;
  for (auto const& f : page.raw_features()) {
    boost::json::array items;
    for (std::string_view item : f.items) {
      auto v = wire::parse_json(item, limits);
      check(v.has_value(), "a raw item that does not parse on its own");
      items.push_back(std::move(*v));
      std::string compact;
      wire::append_compact_json(compact, item);
      if (page.raw_items_compact()) check(compact == item, "a compact page whose item has whitespace");
      auto c = wire::parse_json(compact, limits);
      check(c.has_value() && *c == items.back(), "compacting an item changed its value");
    }
    check(!o.contains(f.name), "a raw page with a repeated feature");
    o[f.name] = std::move(items);
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  std::uint8_t const flags = in.byte();
  wire::decode_limits limits;
  limits.max_depth = (flags & 7) == 7 ? 64 : (flags & 7) + 1;
  std::string body(in.rest());
  if (flags & 8) body = R"({"result":{"status":"success","data":{"comments":[)" + body + "]}}}";
  auto const now = std::chrono::system_clock::time_point{};
  wire::http_response_view const view{200, body, {}, "application/json"};

  auto const parsed = wire::decode_user_data(view, limits, now);
  auto const raw = wire::decode_user_data_raw(view, limits, now);
  if (!parsed) {
    if (raw) {
      // Only a number beyond a double may make the difference: the parsed form refuses it
      // ("number too large", or Boost.JSON's "exponent overflow" for a huge exponent).
      auto const& m = parsed.error().message;
      check(m.find("number too large") != std::string::npos ||
                m.find("exponent overflow") != std::string::npos,
            "the raw form accepted a page the parsed form refused");
      return 0;
    }
    check(parsed.error().code == raw.error().code, "the two forms failed with different codes");
    check(parsed.error().message == raw.error().message, "the two forms failed with different messages");
    return 0;
  }
  check(raw.has_value(), "the raw form refused a page the parsed form accepted");
  check(raw->format() == page_format::raw && raw->data().empty(), "a raw page with parsed data");
  check(raw->next_page_token() == parsed->next_page_token(), "the two forms differ in the token");
  check(raw->item_count() == parsed->item_count(), "the two forms differ in the item count");
  boost::json::object expected;
  for (auto const& m : parsed->data())
    if (m.value().is_array()) expected[m.key()] = m.value();
  check(raw_as_object(*raw, limits) == expected, "the two forms differ in the items");
  return 0;
}
