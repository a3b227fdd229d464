// SPDX-License-Identifier: BSL-1.0
// Fuzzes velt::wire::parse_json: whatever it accepts serialises to JSON that parses back
// to the same value (doubles bit for bit), and serialising that gives the same text.
#include "fuzz_support.hpp"

#include <velt/wire.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  using velt::fuzz::check;
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  auto const parsed = velt::wire::parse_json(text);
  if (!parsed) {
    check(!parsed.error().message.empty(), "a parse error without a message");
    return 0;
  }
  std::string const once = boost::json::serialize(*parsed);
  auto const reparsed = velt::wire::parse_json(once);
  check(reparsed.has_value(), "parse_json refused its own serialisation");
  check(velt::fuzz::same_json(*parsed, *reparsed, /*exact_doubles=*/true),
        "the value changed over serialise + parse");
  check(boost::json::serialize(*reparsed) == once, "serialisation is not a fixed point");
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = velt::wire::decode_limits{}.max_depth;
  (void)boost::json::parse(once, ec, {}, opts);
  check(!ec, "the serialisation is not JSON that boost::json::parse accepts");
  return 0;
}
