// SPDX-License-Identifier: BSL-1.0
// file_io.hpp: the POSIX pieces the audit library shares: an owned descriptor, complete
// reads and writes, flock with a deadline, private directories and durable publication of
// a new file. Every failure is an audit::error naming the file and errno.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace velt::audit::detail {

/// An owned file descriptor.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept;
  unique_fd(unique_fd const&) = delete;
  unique_fd& operator=(unique_fd const&) = delete;
  ~unique_fd();
  int get() const noexcept { return fd_; }
  int release() noexcept {
    int const fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

/// Throws `error` (`io`): "<what> <path>: <strerror(err)>".
[[noreturn]] void throw_io(std::string_view what, std::filesystem::path const& path, int err);

/// write(2) until every byte is written (EINTR retried).
void write_all(int fd, std::string_view bytes, std::filesystem::path const& path);
/// pread(2) of exactly `n` bytes at `offset` (short only at end of file).
std::string pread_exact(int fd, std::uint64_t offset, std::size_t n, std::filesystem::path const& path);
/// Reads a whole (small) file.
std::string read_file(std::filesystem::path const& path);
/// The size of the open file.
std::uint64_t file_size(int fd, std::filesystem::path const& path);

/// flock(fd, `operation` | LOCK_NB), retried until `timeout`; throws `error`
/// (`lock_timeout`) then.
void lock_file(int fd, int operation, std::chrono::milliseconds timeout, std::filesystem::path const& path);
/// Releases a flock (errors ignored: closing the descriptor releases it anyway).
void unlock_file(int fd) noexcept;

/// Creates `dir` and its missing parents with mode 0700 (existing ones are left as they are).
void make_private_directories(std::filesystem::path const& dir);
/// fsync of a directory, so that a link or rename in it is durable.
void fsync_directory(std::filesystem::path const& dir);

/// Publishes `bytes` as `path` with `mode`, whole or not at all: written to an unnamed (or
/// temporary) file, fsynced, then linked in. Without `replace`, an existing `path` is never
/// touched (`error` `exists`); with it, `path` is replaced by rename(2). The directory is
/// not fsynced (the caller does that once for several files).
void publish_file(std::filesystem::path const& path, std::string_view bytes, unsigned mode, bool replace);

}  // namespace velt::audit::detail
