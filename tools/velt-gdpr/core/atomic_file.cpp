// SPDX-License-Identifier: BSL-1.0
#include "core/atomic_file.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <system_error>

namespace velt::gdpr {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(std::string const& what, fs::path const& p, int err = errno) {
  throw fs::filesystem_error(what, p, std::error_code(err, std::generic_category()));
}

int open_directory(fs::path const& dir) {
  int fd;
  do {
    fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot open directory", dir);
  return fd;
}

void sync_fd(int fd, fs::path const& p) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) fail("fsync failed", p);
}

// Whether linkat() can publish an O_TMPFILE through /proc/self/fd (needs /proc).
bool proc_fd_available() {
  static bool const ok = ::access("/proc/self/fd", X_OK) == 0;
  return ok;
}

// Set once an O_TMPFILE open fails with "not supported" for some directory.
std::atomic<bool> tmpfile_unsupported{false};

}  // namespace

void make_private_directories(fs::path const& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("not a directory", dir, ENOTDIR);
    return;
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) make_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create directory", dir);
}

void sync_directory(fs::path const& dir) {
  int const fd = open_directory(dir);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int const err = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories; their renames are then as durable as
  // they can be.
  if (rc != 0 && err != EINVAL && err != EROFS) fail("fsync of directory failed", dir, err);
}

void write_all(int fd, char const* data, std::size_t count, fs::path const& path) {
  while (count > 0) {
    ssize_t const n = ::write(fd, data, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", path);
    }
    data += n;
    count -= static_cast<std::size_t>(n);
  }
}

atomic_file::atomic_file(fs::path dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
  if (proc_fd_available() && !tmpfile_unsupported.load(std::memory_order_relaxed)) {
    do {
      fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);  // read back by hash_on_commit
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) {
      if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
        tmpfile_unsupported.store(true, std::memory_order_relaxed);
      } else {
        fail("cannot create a temporary file in", dir_);
      }
    }
  }
  if (fd_ < 0) {
    std::string templ = (dir_ / ".tmp-XXXXXX").string();
    fd_ = ::mkostemp(templ.data(), O_CLOEXEC);  // mode 0600
    if (fd_ < 0) fail("cannot create a temporary file in", dir_);
    temp_name_ = fs::path(templ).filename().string();
  }
  (void)::fchmod(fd_, 0600);  // exactly 0600, whatever the umask
}

atomic_file::~atomic_file() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_name_.empty()) ::unlink((dir_ / temp_name_).c_str());
}

namespace {
constexpr std::size_t write_gather_bytes = 64 * 1024;
}

void atomic_file::write(std::string_view bytes) {
  written_ += bytes.size();
  if (buffer_.size() + bytes.size() <= write_gather_bytes) {
    buffer_.append(bytes);
    return;
  }
  flush();
  if (bytes.size() < write_gather_bytes) {
    buffer_.append(bytes);
  } else {
    write_all(fd_, bytes.data(), bytes.size(), path());
  }
}

void atomic_file::flush() {
  if (buffer_.empty()) return;
  write_all(fd_, buffer_.data(), buffer_.size(), path());
  buffer_.clear();
}

void atomic_file::append_file(fs::path const& source, std::uint64_t count) {
  int in;
  do {
    in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  } while (in < 0 && errno == EINTR);
  if (in < 0) fail("cannot open", source);
  try {
    flush();
  } catch (...) {
    ::close(in);
    throw;
  }
  std::uint64_t left = count;
  // In the kernel first (no copy through user space; a reflink on file systems that share
  // extents); read/write when the file systems or the kernel do not support it.
  while (left > 0) {
    ssize_t const n = ::copy_file_range(in, nullptr, fd_, nullptr,
                                        static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 30)), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // unsupported here (EXDEV, EINVAL, ENOSYS, ...) or short: finish below
    written_ += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  std::array<char, 1 << 16> buf;
  while (left > 0) {
    ssize_t const n = ::read(in, buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int const err = n < 0 ? errno : EIO;
      ::close(in);
      fail(n < 0 ? "read failed" : "file shorter than expected", source, err);
    }
    try {
      write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    } catch (...) {
      ::close(in);
      throw;
    }
    left -= static_cast<std::uint64_t>(n);
  }
  ::close(in);
}

void atomic_file::commit() {
  flush();
  sync_fd(fd_, path());
  fs::path const target = dir_ / name_;
  if (temp_name_.empty()) {
    std::string const proc = "/proc/self/fd/" + std::to_string(fd_);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno != EEXIST) fail("cannot publish", target);
      // Replace: link under a unique hidden name, then rename over the old file.
      for (int attempt = 0;; ++attempt) {
        static std::atomic<unsigned long> counter{0};
        std::string const tmp = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, (dir_ / tmp).c_str(), AT_SYMLINK_FOLLOW) == 0) {
          temp_name_ = tmp;
          break;
        }
        if (errno != EEXIST || attempt > 100) fail("cannot publish", target);
      }
    }
  }
  if (!temp_name_.empty() && ::rename((dir_ / temp_name_).c_str(), target.c_str()) != 0) {
    fail("cannot rename into place", target);
  }
  committed_ = true;
  if (hash_) sha256_ = sha256_of_fd(fd_, written_, target);
  ::close(fd_);
  fd_ = -1;
  sync_directory(dir_);
}

void write_file_atomically(fs::path const& file, std::string_view content) {
  atomic_file f(file.parent_path().empty() ? fs::path(".") : file.parent_path(),
                file.filename().string());
  f.write(content);
  f.commit();
}

std::string sha256_of_fd(int fd, std::uint64_t size, fs::path const& path) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) fail("SHA-256 failed", path, EIO);
  std::array<char, 1 << 16> buf;
  std::uint64_t at = 0;
  while (at < size) {
    ssize_t const n = ::pread(fd, buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(size - at, buf.size())),
                              static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? "read failed" : "file shorter than expected", path, n < 0 ? errno : EIO);
    if (EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n)) != 1) fail("SHA-256 failed", path, EIO);
    at += static_cast<std::uint64_t>(n);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) fail("SHA-256 failed", path, EIO);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xF];
  }
  return hex;
}

std::string sha256_of_file(fs::path const& file) {
  int fd;
  do {
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int const err = errno;
    ::close(fd);
    fail("cannot stat", file, err);
  }
  try {
    std::string hex = sha256_of_fd(fd, static_cast<std::uint64_t>(st.st_size), file);
    ::close(fd);
    return hex;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string read_file(fs::path const& file) {
  int fd;
  do {
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot open", file);
  std::string out;
  std::array<char, 1 << 16> buf;
  for (;;) {
    ssize_t const n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int const err = errno;
      ::close(fd);
      fail("read failed", file, err);
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

void remove_stale_temporaries(fs::path const& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string const name = it->path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) fs::remove(it->path(), ec);
  }
}

}  // namespace velt::gdpr
