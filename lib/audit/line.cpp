// SPDX-License-Identifier: BSL-1.0
#include "audit/line.hpp"

#include "audit/crypto.hpp"

#include <velt/audit.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdio>
#include <ctime>

namespace velt::audit::detail {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 9> envelope_keys = {"v", "seq", "prev", "run", "at", "event",
                                                          "keySha256", "sig", "h"};
// `,"h":"` + 64 hex + `"}`: what a line ends with, and what comes off to give D.
constexpr std::size_t h_suffix_bytes = 6 + 64 + 2;
// `,"sig":"` + 88 base64 + `"}`: what comes off D to give a run_end's signed message.
constexpr std::size_t sig_suffix_bytes = 8 + 88 + 2;

bool has_double(json::value const& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return true;
    case json::kind::array:
      for (auto const& e : v.get_array()) {
        if (has_double(e)) return true;
      }
      return false;
    case json::kind::object:
      for (auto const& m : v.get_object()) {
        if (has_double(m.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

bool digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

line_check fault(line_fault f, std::string reason) {
  line_check out;
  out.fault = f;
  out.reason = std::move(reason);
  return out;
}

std::optional<std::uint64_t> as_positive(json::value const& v) {
  if (v.is_uint64()) return v.get_uint64() > 0 ? std::optional(v.get_uint64()) : std::nullopt;
  if (v.is_int64() && v.get_int64() > 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

}  // namespace

std::string format_utc_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto const ms = floor<milliseconds>(t);
  auto const secs = floor<seconds>(ms);
  auto const frac = (ms - secs).count();
  std::time_t const tt = system_clock::to_time_t(time_point_cast<system_clock::duration>(secs));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::size_t const n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char fbuf[8];
  std::snprintf(fbuf, sizeof fbuf, ".%03dZ", static_cast<int>(frac));
  out += fbuf;
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_utc_ms(std::string_view s) {
  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s[19] != '.' || s[23] != 'Z') {
    return std::nullopt;
  }
  auto const y = s.substr(0, 4), mo = s.substr(5, 2), d = s.substr(8, 2), h = s.substr(11, 2),
             mi = s.substr(14, 2), se = s.substr(17, 2), ms = s.substr(20, 3);
  for (auto part : {y, mo, d, h, mi, se, ms}) {
    if (!digits(part)) return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day const ymd{year{number(y)}, month{static_cast<unsigned>(number(mo))},
                           day{static_cast<unsigned>(number(d))}};
  // Years system_clock (nanoseconds, about 1678-2262) can hold, with margin.
  if (number(y) < 1900 || number(y) > 2200) return std::nullopt;
  if (!ymd.ok() || number(h) > 23 || number(mi) > 59 || number(se) > 59) return std::nullopt;
  auto const t = sys_days{ymd} + hours{number(h)} + minutes{number(mi)} + seconds{number(se)} +
                 milliseconds{number(ms)};
  return time_point_cast<system_clock::duration>(t);
}

void check_event(std::string_view name, json::object const& members) {
  if (name.empty()) throw error(error_kind::invalid_argument, "audit event without a name");
  for (auto const& m : members) {
    for (auto const key : envelope_keys) {
      if (m.key() == key) {
        throw error(error_kind::invalid_argument,
                    "audit event " + std::string(name) + ": member \"" + std::string(key) + "\" is the writer's");
      }
    }
    if (has_double(m.value())) {
      throw error(error_kind::invalid_argument, "audit event " + std::string(name) + ": member \"" +
                                                    std::string(m.key()) + "\" holds a floating-point number");
    }
  }
}

built_line build_line(envelope const& env, std::string_view event, json::object const& members,
                      line_signer const* signer) {
  json::object o;
  o.reserve(members.size() + 9);
  o.emplace("v", 1);
  o.emplace("seq", env.seq);
  o.emplace("prev", env.prev);
  o.emplace("run", env.run);
  o.emplace("at", env.at);
  o.emplace("event", event);
  for (auto const& m : members) o.emplace(m.key(), m.value());
  if (signer != nullptr) {
    o.emplace("keySha256", signer->key_sha256);
    std::string const message = json::serialize(o);
    auto const sig = signer->sign(message);
    o.emplace("sig", base64(sig));
  }
  std::string d = json::serialize(o);
  built_line out;
  out.h = sha256_hex(d);
  d.pop_back();  // the closing brace; h goes before it
  out.text.reserve(d.size() + h_suffix_bytes + 1);
  out.text = std::move(d);
  out.text += ",\"h\":\"";
  out.text += out.h;
  out.text += "\"}\n";
  return out;
}

line_check check_line(std::string_view text) {
  if (text.size() + 1 > max_line_bytes) return fault(line_fault::not_audit_line, "longer than 64 KiB");
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return fault(line_fault::not_audit_line, "not JSON (" + ec.message() + ")");
  if (!v.is_object()) return fault(line_fault::not_audit_line, "not a JSON object");
  json::object& o = v.get_object();

  // h: the last member, written exactly as the writer writes it.
  if (text.size() < h_suffix_bytes + 2 || o.empty() || (o.end() - 1)->key() != "h" ||
      text.substr(text.size() - h_suffix_bytes, 6) != ",\"h\":\"" || text.substr(text.size() - 2) != "\"}") {
    return fault(line_fault::not_audit_line, "no \"h\" member at its end");
  }
  std::string const h(text.substr(text.size() - h_suffix_bytes + 6, 64));
  if (!is_lower_hex(h, 64)) return fault(line_fault::not_audit_line, "\"h\" is not 64 lower-case hex digits");
  std::string d(text.substr(0, text.size() - h_suffix_bytes));
  d += '}';
  if (sha256_hex(d) != h) return fault(line_fault::changed, "its content does not match its hash");
  // Canonical form: what the writer writes re-serializes to the same bytes; anything else
  // (spaces, other escapes, duplicate members) was not written by a writer.
  if (json::serialize(o) != text) return fault(line_fault::not_audit_line, "not in the writer's canonical form");

  // The envelope, in order.
  if (o.size() < 7) return fault(line_fault::not_audit_line, "envelope members missing");
  auto it = o.begin();
  for (std::string_view key : {"v", "seq", "prev", "run", "at", "event"}) {
    if (it->key() != key) {
      return fault(line_fault::not_audit_line, "member " + std::to_string(it - o.begin() + 1) + " is \"" +
                                                   std::string(it->key()) + "\", expected \"" + std::string(key) + "\"");
    }
    ++it;
  }
  checked_line out;
  auto const& ver = o.at("v");
  if (!(ver.is_int64() && ver.get_int64() == 1) && !(ver.is_uint64() && ver.get_uint64() == 1)) {
    return fault(line_fault::not_audit_line, "\"v\" is " + json::serialize(ver) + ", this verifier reads version 1");
  }
  auto const seq = as_positive(o.at("seq"));
  if (!seq) return fault(line_fault::not_audit_line, "\"seq\" is not a positive integer");
  out.seq = *seq;
  auto const* prev = o.at("prev").if_string();
  if (prev == nullptr || !is_lower_hex(*prev, 64)) {
    return fault(line_fault::not_audit_line, "\"prev\" is not 64 lower-case hex digits");
  }
  out.prev = std::string(*prev);
  auto const* run = o.at("run").if_string();
  if (run == nullptr || !is_lower_hex(*run, 32)) {
    return fault(line_fault::not_audit_line, "\"run\" is not 32 lower-case hex digits");
  }
  out.run = std::string(*run);
  auto const* at = o.at("at").if_string();
  if (at == nullptr || !parse_utc_ms(*at)) {
    return fault(line_fault::not_audit_line, "\"at\" is not a UTC time with milliseconds");
  }
  auto const* event = o.at("event").if_string();
  if (event == nullptr || event->empty()) return fault(line_fault::not_audit_line, "\"event\" is not a name");
  out.event = std::string(*event);
  out.h = h;

  // A signature: only on run_end, as its last two members before h.
  if (o.contains("sig")) {
    auto const n = o.size();
    auto const& key_member = *(o.begin() + static_cast<std::ptrdiff_t>(n - 3));
    auto const& sig_member = *(o.begin() + static_cast<std::ptrdiff_t>(n - 2));
    if (out.event != "run_end") return fault(line_fault::not_audit_line, "a signature on a line that is not run_end");
    if (n < 10 || key_member.key() != "keySha256" || sig_member.key() != "sig" ||
        !key_member.value().is_string() || !sig_member.value().is_string()) {
      return fault(line_fault::not_audit_line, "\"keySha256\" and \"sig\" are not the last members before \"h\"");
    }
    std::string_view const fp = key_member.value().get_string();
    if (!is_lower_hex(fp, 64)) return fault(line_fault::not_audit_line, "\"keySha256\" is not 64 lower-case hex digits");
    auto sig = decode_signature_base64(sig_member.value().get_string());
    if (!sig) return fault(line_fault::not_audit_line, "\"sig\" is not 88 characters of base64 for 64 bytes");
    out.key_sha256 = std::string(fp);
    out.sig = *sig;
    out.signed_message = d.substr(0, d.size() - sig_suffix_bytes) + "}";
  }
  out.object = std::move(o);
  line_check result;
  result.line = std::move(out);
  return result;
}

}  // namespace velt::audit::detail
