// SPDX-License-Identifier: BSL-1.0
#include "audit/file_io.hpp"

#include <velt/audit.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace velt::audit::detail {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0) ::close(fd_);
}

void throw_io(std::string_view what, std::filesystem::path const& path, int err) {
  throw error(error_kind::io, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

void write_all(int fd, std::string_view bytes, std::filesystem::path const& path) {
  while (!bytes.empty()) {
    ssize_t const n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string pread_exact(int fd, std::uint64_t offset, std::size_t n, std::filesystem::path const& path) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t const r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", path, errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

std::string read_file(std::filesystem::path const& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_io("cannot open", path, errno);
  return pread_exact(fd.get(), 0, file_size(fd.get(), path), path);
}

std::uint64_t file_size(int fd, std::filesystem::path const& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_io("cannot stat", path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

void lock_file(int fd, int operation, std::chrono::milliseconds timeout, std::filesystem::path const& path) {
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    if (::flock(fd, operation | LOCK_NB) == 0) return;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) throw_io("cannot lock", path, errno);
    if (std::chrono::steady_clock::now() >= deadline) {
      throw error(error_kind::lock_timeout, "cannot lock " + path.string() + ": another process held its lock for " +
                                                std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(20));
  }
}

void unlock_file(int fd) noexcept { (void)::flock(fd, LOCK_UN); }

void make_private_directories(std::filesystem::path const& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw_io("not a directory:", dir, ENOTDIR);
    return;
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) make_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_io("cannot create directory", dir, errno);
}

void fsync_directory(std::filesystem::path const& dir) {
  auto const d = dir.empty() ? std::filesystem::path(".") : dir;
  unique_fd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw_io("cannot open directory", d, errno);
  if (::fsync(fd.get()) != 0) throw_io("cannot fsync directory", d, errno);
}

namespace {

void fill(int fd, std::string_view bytes, unsigned mode, std::filesystem::path const& shown) {
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) throw_io("cannot chmod", shown, errno);  // against umask
  write_all(fd, bytes, shown);
  if (::fsync(fd) != 0) throw_io("cannot fsync", shown, errno);
}

// O_TMPFILE: the bytes have no name until linkat gives them the final one, so a crash
// leaves nothing behind (a private key included). Returns false when the file system or
// /proc does not allow it.
bool publish_unnamed(std::filesystem::path const& path, std::string_view bytes, unsigned mode) {
  auto const dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  unique_fd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (fd.get() < 0) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return false;
    throw_io("cannot create a file in", dir, errno);
  }
  fill(fd.get(), bytes, mode, path);
  std::string const proc = "/proc/self/fd/" + std::to_string(fd.get());
  if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
  if (errno == EEXIST) throw error(error_kind::exists, path.string() + " exists; it is never replaced");
  if (errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0) return false;
  throw_io("cannot link", path, errno);
}

}  // namespace

void publish_file(std::filesystem::path const& path, std::string_view bytes, unsigned mode, bool replace) {
  if (!replace && publish_unnamed(path, bytes, mode)) return;
  auto const dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  unique_fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (fd.get() < 0) throw_io("cannot create a temporary file in", dir, errno);
  try {
    fill(fd.get(), bytes, mode, path);
    if (replace) {
      if (::rename(tmpl.c_str(), path.c_str()) != 0) throw_io("cannot rename onto", path, errno);
    } else {
      if (::link(tmpl.c_str(), path.c_str()) != 0) {
        if (errno == EEXIST) throw error(error_kind::exists, path.string() + " exists; it is never replaced");
        throw_io("cannot link", path, errno);
      }
      ::unlink(tmpl.c_str());
    }
  } catch (...) {
    ::unlink(tmpl.c_str());
    throw;
  }
}

}  // namespace velt::audit::detail
