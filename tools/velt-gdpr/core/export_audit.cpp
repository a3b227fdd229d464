// SPDX-License-Identifier: BSL-1.0
#include "core/export_audit.hpp"

#include "core/atomic_file.hpp"
#include "core/file_name.hpp"
#include "core/report.hpp"

#include <velt/audit.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <system_error>

namespace velt::gdpr {

namespace json = boost::json;
namespace fs = std::filesystem;

json::object exported_members(std::string_view user_id, std::uint64_t pages, std::uint64_t items,
                              std::uint64_t bytes, std::string sha256, bool recovered) {
  json::object m{{"userId", printable_id(user_id)},
                 {"file", "users/" + export_file_name(user_id)},
                 {"pages", pages},
                 {"items", items},
                 {"bytes", bytes},
                 {"sha256", std::move(sha256)}};
  if (recovered) m["recovered"] = true;
  return m;
}

json::object export_failed_members(std::string_view user_id, velt::status status, unsigned http_status,
                                   unsigned attempts) {
  return json::object{{"userId", printable_id(user_id)},
                      {"status", velt::to_string(status)},
                      {"httpStatus", http_status},
                      {"attempts", attempts}};
}

std::unique_ptr<seen_ids> users_logged_as_exported(fs::path const& log, fs::path const& dir) {
  auto seen = std::make_unique<seen_ids>();
  std::error_code ec;
  if (!fs::exists(log, ec)) return seen;
  std::string const wanted = dir.string();
  std::vector<std::string> runs;  // the runs into `dir` (few: one per run of the export)
  audit::scan_log(log, [&](audit::line_view const& line) {
    auto const* event = line.object.if_contains("event");
    auto const* run = line.object.if_contains("run");
    if (!event || !event->is_string() || !run || !run->is_string()) return;
    std::string_view const run_id = run->get_string();
    if (event->get_string() == "run_start") {
      auto const* d = line.object.if_contains("dir");
      if (d && d->is_string() && d->get_string() == wanted) runs.emplace_back(run_id);
      return;
    }
    if (event->get_string() != "exported") return;
    if (std::find(runs.begin(), runs.end(), run_id) == runs.end()) return;
    if (auto const* user = line.object.if_contains("userId"); user && user->is_string()) seen->insert(user->get_string());
  });
  return seen;
}

json::object recovered_members(fs::path const& users_dir, std::string const& user_id) {
  fs::path const file = users_dir / export_file_name(user_id);
  std::string const text = read_file(file);
  std::string const sha256 = sha256_of_file(file);
  json::value const doc = json::parse(text);
  std::uint64_t pages = 0, items = 0;
  if (auto const* p = doc.as_object().if_contains("pages")) pages = p->to_number<std::uint64_t>();
  if (auto const* data = doc.as_object().if_contains("data"); data && data->is_object()) {
    for (auto const& feature : data->get_object()) {
      if (feature.value().is_array()) items += feature.value().get_array().size();
    }
  }
  return exported_members(user_id, pages, items, text.size(), sha256, /*recovered=*/true);
}

std::unique_ptr<audit_trail> start_export_audit(export_audit_setup setup, fs::path const& users_dir,
                                                std::unique_ptr<seen_ids>& logged) {
  auto trail = std::make_unique<audit_trail>(setup.log, std::move(setup.key), std::move(setup.secrets),
                                             audit_policy{}, setup.options);
  std::error_code ec;
  bool const has_files = fs::directory_iterator(users_dir, ec) != fs::directory_iterator();
  if (!ec && has_files && setup.info.dir) logged = users_logged_as_exported(setup.log, *setup.info.dir);
  trail->on_failure(std::move(setup.on_failure));
  trail->begin(setup.info);
  return trail;
}

}  // namespace velt::gdpr
