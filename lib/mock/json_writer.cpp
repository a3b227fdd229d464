// SPDX-License-Identifier: BSL-1.0
#include "json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace velt::mock::detail {

namespace {

void write_double(std::string& out, double d) {
  // Non-finite values have no JSON form; JSON.stringify writes null.
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  (void)ec;  // 32 bytes always suffice for the shortest form
  // The shortest form of a large whole double can be plain digits ("9424150565682143232"),
  // which a parser reads back as an integer: keep it a double on the wire.
  if (std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data()))
          .find_first_of(".eE") == std::string_view::npos) {
    auto sci = std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::scientific);
    end = sci.ptr;
  }
  out.append(buf.data(), end);
}

template <class Int>
void write_integer(std::string& out, Int i) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), i);
  (void)ec;
  out.append(buf.data(), end);
}

}  // namespace

void write_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto const c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void write_json(std::string& out, boost::json::value const& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: write_integer(out, v.get_int64()); break;
    case boost::json::kind::uint64: write_integer(out, v.get_uint64()); break;
    case boost::json::kind::double_: write_double(out, v.get_double()); break;
    case boost::json::kind::string: {
      auto const& s = v.get_string();
      write_json_string(out, std::string_view(s.data(), s.size()));
      break;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (auto const& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, e);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (auto const& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        write_json_string(out, std::string_view(kv.key().data(), kv.key().size()));
        out.push_back(':');
        write_json(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

std::string to_json(boost::json::value const& v) {
  std::string out;
  write_json(out, v);
  return out;
}

boost::json::value json_number(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 0x1.0p63) {
    return static_cast<std::int64_t>(d);
  }
  return d;
}

}  // namespace velt::mock::detail
