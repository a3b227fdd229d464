// SPDX-License-Identifier: BSL-1.0
// atomic_file.hpp: files that appear complete or not at all, and private directories.
//
// Personal data: files are created with mode 0600 and directories with mode 0700.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace velt::gdpr {

/// Creates `dir` and any missing parents with mode 0700. Existing directories are left as
/// they are. Throws std::filesystem::filesystem_error.
void make_private_directories(std::filesystem::path const& dir);

/// fsync(2) of a directory, so that names created or renamed in it are durable.
void sync_directory(std::filesystem::path const& dir);

/// Writes `count` bytes at `data` to `fd`, retrying on EINTR and short writes. Throws
/// std::filesystem::filesystem_error naming `path`.
void write_all(int fd, char const* data, std::size_t count, std::filesystem::path const& path);

/// A new file that becomes visible under its final name only when `commit()` returns:
/// written to an unnamed O_TMPFILE in the target directory (or, where the file system
/// lacks O_TMPFILE, to a hidden `.tmp-XXXXXX` file next to it), fsync'ed, linked or renamed
/// into place, and the directory fsync'ed. A reader never sees a partial file; after a
/// crash there is either the old file, the new one, or (fallback only) a hidden temporary.
/// Not thread-safe; one writer per object.
class atomic_file {
 public:
  /// Opens the temporary file in `dir` (mode 0600). Throws filesystem_error.
  atomic_file(std::filesystem::path dir, std::string name);
  ~atomic_file();  ///< discards the data unless committed
  atomic_file(atomic_file const&) = delete;
  atomic_file& operator=(atomic_file const&) = delete;

  /// Small writes are gathered (up to 64 KiB) and reach the file in one system call.
  void write(std::string_view bytes);
  /// Appends the first `count` bytes of the file at `source`.
  void append_file(std::filesystem::path const& source, std::uint64_t count);
  std::uint64_t size() const noexcept { return written_; }

  /// Makes the file durable and visible as `dir/name`, replacing any file of that name.
  void commit();

  /// Makes `commit` read the published file back through its descriptor (from the page
  /// cache, before closing it) and compute its SHA-256: bytes appended with `append_file`
  /// are copied in the kernel and would not be hashed otherwise.
  void hash_on_commit() noexcept { hash_ = true; }
  /// The SHA-256 of the committed file, 64 lower-case hex digits (after `hash_on_commit`
  /// and `commit`; empty otherwise).
  std::string const& sha256() const noexcept { return sha256_; }

  std::filesystem::path path() const { return dir_ / name_; }

 private:
  std::filesystem::path dir_;
  std::string name_;
  std::string temp_name_;  // empty when the file is an O_TMPFILE
  int fd_ = -1;
  std::uint64_t written_ = 0;
  bool committed_ = false;
  bool hash_ = false;
  std::string sha256_;
  std::string buffer_;  // written bytes not yet in the file
  void flush();
};

/// Writes `content` to `file` atomically (as `atomic_file`), replacing it.
void write_file_atomically(std::filesystem::path const& file, std::string_view content);

/// The SHA-256 of the first `size` bytes of the open file `fd` (read with pread), 64
/// lower-case hex digits. Throws filesystem_error naming `path`.
std::string sha256_of_fd(int fd, std::uint64_t size, std::filesystem::path const& path);

/// The SHA-256 of a whole file, 64 lower-case hex digits. Throws filesystem_error.
std::string sha256_of_file(std::filesystem::path const& file);

/// Reads a whole (small) file. Throws filesystem_error.
std::string read_file(std::filesystem::path const& file);

/// Removes the hidden temporaries (`.tmp-*`) that an interrupted fallback write may leave
/// in `dir`. Only safe while no other writer uses the directory (see `dir_lock`).
void remove_stale_temporaries(std::filesystem::path const& dir);

}  // namespace velt::gdpr
