// SPDX-License-Identifier: BSL-1.0
// dir_lock.hpp: one run per output directory.
#pragma once

#include <filesystem>

namespace velt::gdpr {

/// An exclusive flock(2) on `dir/.velt-gdpr.lock` (created with mode 0600), held for the
/// object's lifetime and released by the kernel if the process dies (kill -9 included).
class dir_lock {
 public:
  /// Throws std::runtime_error("... is in use by another velt-gdpr run") when another
  /// process holds the lock, filesystem_error when the file cannot be created.
  explicit dir_lock(std::filesystem::path const& dir);
  ~dir_lock();
  dir_lock(dir_lock const&) = delete;
  dir_lock& operator=(dir_lock const&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace velt::gdpr
