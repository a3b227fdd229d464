// SPDX-License-Identifier: BSL-1.0
#include "core/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace velt::gdpr {

dir_lock::dir_lock(std::filesystem::path const& dir) {
  auto const file = dir / ".velt-gdpr.lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::filesystem::filesystem_error("cannot create the lock file", file,
                                            std::error_code(errno, std::generic_category()));
  }
  int rc;
  do {
    rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int const err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw std::runtime_error(dir.string() + " is in use by another velt-gdpr run");
    }
    throw std::filesystem::filesystem_error("cannot lock", file,
                                            std::error_code(err, std::generic_category()));
  }
}

dir_lock::~dir_lock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace velt::gdpr
