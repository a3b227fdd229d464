// SPDX-License-Identifier: BSL-1.0
#include "core/report.hpp"

#include "core/time_format.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace velt::gdpr {

namespace json = boost::json;

char const* to_string(run_state s) noexcept {
  switch (s) {
    case run_state::running: return "running";
    case run_state::complete: return "complete";
    case run_state::interrupted: return "interrupted";
    case run_state::stopped: return "stopped";
  }
  return "running";
}

std::string printable_id(std::string_view id) {
  std::string out;
  out.reserve(id.size());
  auto const* p = reinterpret_cast<unsigned char const*>(id.data());
  std::size_t const n = id.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char const c = p[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
           cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(id.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

run_report::run_report(std::string organization_id, std::chrono::system_clock::time_point started)
    : organization_id_(std::move(organization_id)), started_(started) {}

void run_report::set_shard(std::string shard) {
  std::lock_guard lock(mutex_);
  shard_ = std::move(shard);
  dirty_ = true;
}

void run_report::add_ok(std::uint64_t pages, std::uint64_t items, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  ++counts_.ok;
  counts_.pages += pages;
  counts_.items += items;
  counts_.bytes += bytes;
  dirty_ = true;
}

void run_report::add_skipped() {
  std::lock_guard lock(mutex_);
  ++counts_.skipped;
  dirty_ = true;
}

void run_report::add_failure(user_failure f) {
  std::lock_guard lock(mutex_);
  ++counts_.failed;
  if (failures_.size() < max_failures) {
    failures_.push_back(std::move(f));
  } else {
    ++failures_omitted_;
  }
  dirty_ = true;
}

void run_report::finish(run_state state, std::chrono::system_clock::time_point when) {
  std::lock_guard lock(mutex_);
  state_ = state;
  finished_ = when;
  dirty_ = true;
}

void run_report::set_error(velt::error_details const& why, std::string explanation) {
  std::lock_guard lock(mutex_);
  json::object e;
  e["status"] = velt::to_string(why.status);
  e["httpStatus"] = why.http_status;
  e["message"] = printable_id(why.message);
  if (!why.proxy.empty()) e["proxy"] = why.proxy;  // the HTTP proxy failed, not the API
  e["explanation"] = std::move(explanation);
  error_ = std::move(e);
  dirty_ = true;
}

void run_report::set_audit(std::string file, std::uint64_t seq, std::string h) {
  std::lock_guard lock(mutex_);
  audit_ = json::object{{"file", std::move(file)}, {"seq", seq}, {"h", std::move(h)}};
  dirty_ = true;
}

run_report::counts run_report::totals() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

bool run_report::take_dirty() {
  std::lock_guard lock(mutex_);
  return std::exchange(dirty_, false);
}

json::object run_report::to_json() const {
  std::lock_guard lock(mutex_);
  json::object o;
  o["organizationId"] = organization_id_;
  o["startedAt"] = format_utc(started_);
  if (finished_) {
    o["finishedAt"] = format_utc(*finished_);
  } else {
    o["finishedAt"] = nullptr;
  }
  o["state"] = to_string(state_);
  if (!shard_.empty()) o["shard"] = shard_;
  o["users"] = json::object{{"ok", counts_.ok}, {"failed", counts_.failed}, {"skipped", counts_.skipped}};
  json::array failures;
  for (auto const& f : failures_) {
    failures.push_back(json::object{{"userId", printable_id(f.user_id)},
                                    {"status", velt::to_string(f.status)},
                                    {"httpStatus", f.http_status},
                                    {"message", printable_id(f.message)},
                                    {"attempts", f.attempts}});
  }
  o["failures"] = std::move(failures);
  if (failures_omitted_ > 0) o["failuresOmitted"] = failures_omitted_;
  o["pages"] = counts_.pages;
  o["items"] = counts_.items;
  o["bytes"] = counts_.bytes;
  if (error_) o["error"] = *error_;
  if (audit_) o["audit"] = *audit_;
  return o;
}

std::string to_json_text(run_report const& report) {
  return json::serialize(report.to_json()) + "\n";
}

}  // namespace velt::gdpr
