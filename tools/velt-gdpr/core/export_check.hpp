// SPDX-License-Identifier: BSL-1.0
// export_check.hpp: checking an export file against what the server holds (the demo's
// verification; also usable by tests and benchmarks).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace velt::gdpr {

/// What the file at `file` should hold.
struct expected_export {
  std::string organization_id;
  std::string user_id;
  std::size_t pages = 0;
  boost::json::object data;  ///< the merged data object (feature -> items)
};

/// Reads and parses `file` (exact numbers) and compares it with `expected`: organizationId,
/// userId, a well-formed exportedAt, pages, every feature (the four known ones present)
/// with the same items in the same order (numbers compared exactly: an integer never
/// equals a double), and features in the server's order. Returns a description of the
/// first difference, or std::nullopt when the file matches.
std::optional<std::string> check_export_file(std::filesystem::path const& file, expected_export const& expected);

}  // namespace velt::gdpr
