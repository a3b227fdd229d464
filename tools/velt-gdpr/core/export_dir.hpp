// SPDX-License-Identifier: BSL-1.0
// export_dir.hpp: readying an export's output directory for a run (under its dir_lock).
#pragma once

#include "core/export_writer.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace velt::gdpr {

/// A directory that cannot be used; the message starts with "--out: ".
class export_dir_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Refuses `out_dir` when its report.json names another organization; creates DIR/users
/// (0700); removes hidden temporaries an interrupted write left, and the spools of users
/// whose file was published by a run killed before it removed them. Throws export_dir_error.
void prepare_export_directory(std::filesystem::path const& out_dir, std::string const& organization_id,
                              export_paths const& paths);

}  // namespace velt::gdpr
