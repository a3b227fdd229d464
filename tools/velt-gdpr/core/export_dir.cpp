// SPDX-License-Identifier: BSL-1.0
#include "core/export_dir.hpp"

#include "core/atomic_file.hpp"

#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <system_error>

namespace velt::gdpr {

namespace fs = std::filesystem;

namespace {

void remove_finished_partials(export_paths const& paths) {
  // A run killed between publishing a user's file and removing its spool leaves the spool
  // behind; the user is complete (and skipped from now on), so the spool can go.
  std::error_code ec;
  for (auto it = fs::directory_iterator(paths.partial_root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string const stem = it->path().filename().string();
    struct stat st {};
    if (::stat((paths.users_dir / (stem + ".json")).c_str(), &st) == 0) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }
}

}  // namespace

void prepare_export_directory(fs::path const& out_dir, std::string const& organization_id, export_paths const& paths) {
  // The output directory: created 0700, checked to belong to this organization.
  try {
    auto const previous = boost::json::parse(read_file(out_dir / "report.json"));
    if (auto const* org = previous.as_object().if_contains("organizationId");
        org && org->is_string() && org->get_string() != organization_id) {
      throw export_dir_error(fmt::format("--out: {} holds an export of another organization ({}); "
                                         "use a new directory",
                                         out_dir.string(), std::string(org->get_string())));
    }
  } catch (export_dir_error const&) {
    throw;
  } catch (std::exception const&) {
    // No (readable) earlier report: a new directory.
  }
  try {
    make_private_directories(paths.users_dir);
    remove_stale_temporaries(paths.users_dir);
    remove_stale_temporaries(out_dir);
    remove_finished_partials(paths);
  } catch (fs::filesystem_error const& e) {
    throw export_dir_error(std::string("--out: ") + e.what());
  }
}

}  // namespace velt::gdpr
