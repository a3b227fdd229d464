// SPDX-License-Identifier: BSL-1.0
// Erasure receipts (design note §6): canonical JSON plus a raw 64-byte Ed25519 signature
// of its exact bytes, checkable with `openssl pkeyutl -verify -rawin`.
#include "audit/file_io.hpp"
#include "audit/line.hpp"

#include <velt/audit.hpp>
#include <velt/version.hpp>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <variant>

namespace velt::audit {

namespace json = boost::json;

namespace {

std::string canonical_json(erasure_receipt const& r) {
  json::object o;
  o.emplace("v", 1);
  o.emplace("kind", "erasure-receipt");
  o.emplace("userId", r.user_id);
  json::array orgs;
  for (auto const& id : r.organization_ids) orgs.emplace_back(id);
  o.emplace("organizationIds", std::move(orgs));
  o.emplace("jobId", r.job_id);
  o.emplace("requestedAt", detail::format_utc_ms(r.requested_at));
  o.emplace("completedAt", detail::format_utc_ms(r.completed_at));
  if (r.last_task_completed_time) o.emplace("lastTaskCompletedTime", *r.last_task_completed_time);
  o.emplace("verifiedAt", detail::format_utc_ms(r.verified_at));
  json::object verification;
  verification.emplace("pages", r.pages);
  verification.emplace("items", 0);
  o.emplace("verification", std::move(verification));
  o.emplace("run", r.run);
  o.emplace("tool", r.tool);
  o.emplace("toolVersion", r.tool_version.empty() ? std::string(VELT_VERSION_STRING) : r.tool_version);
  o.emplace("keySha256", r.key_sha256);
  return json::serialize(o) + "\n";
}

// The receipt `json` holds, when it has the receipt's shape; else the reason why not.
std::variant<erasure_receipt, std::string> parse_receipt(std::string_view text) {
  if (text.empty() || text.back() != '\n') return std::string("not a receipt: no newline at its end");
  json::error_code ec;
  json::value v = json::parse(text.substr(0, text.size() - 1), ec);
  if (ec || !v.is_object()) return std::string("not a receipt: not a JSON object");
  auto const& o = v.get_object();
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    auto const* m = o.if_contains(key);
    if (m == nullptr || !m->is_string()) return std::nullopt;
    return std::string(m->get_string());
  };
  auto time = [&](std::string_view key) -> std::optional<std::chrono::system_clock::time_point> {
    auto const s = str(key);
    return s ? detail::parse_utc_ms(*s) : std::nullopt;
  };
  auto const* ver = o.if_contains("v");
  if (ver == nullptr || !ver->is_int64() || ver->get_int64() != 1) return std::string("not a receipt: \"v\" is not 1");
  if (str("kind") != "erasure-receipt") return std::string("not a receipt: \"kind\" is not \"erasure-receipt\"");
  erasure_receipt r;
  auto const user = str("userId"), job = str("jobId"), run = str("run"), tool = str("tool"),
             tool_version = str("toolVersion"), key = str("keySha256");
  auto const requested = time("requestedAt"), completed = time("completedAt"), verified = time("verifiedAt");
  auto const* orgs = o.if_contains("organizationIds");
  auto const* verification = o.if_contains("verification");
  if (!user || !job || !run || !tool || !tool_version || !key || !requested || !completed || !verified ||
      orgs == nullptr || !orgs->is_array() || verification == nullptr || !verification->is_object()) {
    return std::string("not a receipt: a member is missing or of the wrong type");
  }
  for (auto const& org : orgs->get_array()) {
    if (!org.is_string()) return std::string("not a receipt: \"organizationIds\" holds a non-string");
    r.organization_ids.emplace_back(org.get_string());
  }
  auto const* pages = verification->get_object().if_contains("pages");
  auto const* items = verification->get_object().if_contains("items");
  if (pages == nullptr || !pages->is_int64() || pages->get_int64() < 0) {
    return std::string("not a receipt: \"verification.pages\" is not a count");
  }
  if (items == nullptr || !items->is_int64() || items->get_int64() != 0) {
    return std::string("not a receipt of erasure: \"verification.items\" is not 0");
  }
  if (auto const* last = o.if_contains("lastTaskCompletedTime")) {
    if (!last->is_int64()) return std::string("not a receipt: \"lastTaskCompletedTime\" is not an integer");
    r.last_task_completed_time = last->get_int64();
  }
  r.user_id = *user;
  r.job_id = *job;
  r.requested_at = *requested;
  r.completed_at = *completed;
  r.verified_at = *verified;
  r.pages = static_cast<std::uint64_t>(pages->get_int64());
  r.run = *run;
  r.tool = *tool;
  r.tool_version = *tool_version;
  r.key_sha256 = *key;
  // Exactly the bytes the signer writes: no other member, order or spelling.
  if (canonical_json(r) != text) return std::string("not a receipt: not in canonical form");
  return r;
}

std::string short_key(std::string const& fp) {
  return fp.size() == 64 ? fp.substr(0, 4) + "\u2026" + fp.substr(60) : fp;
}

}  // namespace

signed_receipt sign_receipt(erasure_receipt const& receipt, signing_key const& key) {
  erasure_receipt r = receipt;
  r.key_sha256 = key.public_key().fingerprint();
  signed_receipt out;
  out.json = canonical_json(r);
  out.signature = key.sign(out.json);
  return out;
}

std::filesystem::path write_receipt(std::filesystem::path const& dir, std::string_view user_id,
                                    signed_receipt const& receipt) {
  detail::make_private_directories(dir);
  auto const json_file = dir / (user_file_stem(user_id) + ".json");
  auto const sig_file = dir / (user_file_stem(user_id) + ".json.sig");
  detail::publish_file(json_file, receipt.json, 0644, true);
  detail::publish_file(sig_file,
                       std::string_view(reinterpret_cast<char const*>(receipt.signature.data()), receipt.signature.size()),
                       0644, true);
  detail::fsync_directory(dir);
  return json_file;
}

receipt_verdict verify_receipt(std::string_view json_text, std::span<std::byte const> signature,
                               public_key const& key) {
  receipt_verdict out;
  auto parsed = parse_receipt(json_text);
  if (auto const* why = std::get_if<std::string>(&parsed)) {
    out.what = *why;
    return out;
  }
  auto& r = std::get<erasure_receipt>(parsed);
  if (r.key_sha256 != key.fingerprint()) {
    out.what = "signed by key " + r.key_sha256 + ", not by the given key " + key.fingerprint();
    return out;
  }
  if (signature.size() != 64) {
    out.what = "the signature is " + std::to_string(signature.size()) + " bytes, not 64";
    return out;
  }
  if (!key.verify(json_text, signature)) {
    out.what = "the signature does not verify: the receipt or its signature was changed";
    return out;
  }
  out.good = true;
  out.what = r.user_id + ": erased (job " + r.job_id + ", verified " + detail::format_utc_ms(r.verified_at) + ", " +
             std::to_string(r.pages) + (r.pages == 1 ? " page" : " pages") + ", 0 items); signature good (key " +
             short_key(r.key_sha256) + ")";
  out.receipt = std::move(r);
  return out;
}

receipt_verdict verify_receipt_file(std::filesystem::path const& json_file, public_key const& key,
                                    std::optional<std::filesystem::path> const& signature_file) {
  std::string const text = detail::read_file(json_file);
  std::string const sig = detail::read_file(signature_file ? *signature_file : std::filesystem::path(json_file.string() + ".sig"));
  return verify_receipt(text, std::as_bytes(std::span(sig.data(), sig.size())), key);
}

}  // namespace velt::audit
