// SPDX-License-Identifier: BSL-1.0
// users_source.hpp: the users of a run, from `--user` values and a users file, read as a
// stream (memory does not grow with the file, apart from the duplicate filter).
#pragma once

#include "core/seen_ids.hpp"
#include "core/shard.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace velt::gdpr {

/// What one line of a users file holds: the id with surrounding whitespace (space, tab, CR,
/// LF, VT, FF) trimmed; `std::nullopt` for a blank line or a comment (first non-blank
/// character `#`). An id cannot start with `#` in a file (pass it with `--user`).
std::optional<std::string_view> parse_user_line(std::string_view line) noexcept;

/// A users file that cannot be opened or read (a usage error).
class users_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where the users come from.
struct users_options {
  std::vector<std::string> ids;  ///< `--user` values, taken as given, first
  std::string file;              ///< users file; "-" is standard input; empty: none
  shard_spec shard;              ///< only the users of this shard
  std::size_t max_id_bytes = 4096;  ///< longer lines are reported, not exported
};

/// One user to process.
struct user_entry {
  std::string id;
  /// Set when the id cannot be processed (e.g. "user id longer than 4096 bytes"); `id` then
  /// holds its first bytes.
  std::optional<std::string> problem;
};

/// Reads the users one at a time: `--user` values first, then the file's lines. Skips blank
/// lines, comments, ids of other shards and ids met before (see `seen_ids`).
class users_source {
 public:
  /// Opens the file (throws users_file_error naming it when it cannot be opened).
  explicit users_source(users_options options);
  ~users_source();
  users_source(users_source const&) = delete;
  users_source& operator=(users_source const&) = delete;

  /// Lets another thread end the reading early: while `*flag` is true, `next()` stops
  /// waiting for input from a pipe or terminal (it checks every 200 ms) and reports the end.
  void set_cancel_flag(std::atomic<bool> const* flag) noexcept { cancel_ = flag; }

  /// The next user, or `std::nullopt` at the end. Throws users_file_error on a read error.
  std::optional<user_entry> next();
  /// True when `next()` never waits for input: `--user` values and regular files (not a
  /// pipe or a terminal, which may deliver one line at a time).
  bool never_waits() const noexcept { return fd_ < 0 || regular_file_; }

  struct tally {
    std::uint64_t lines = 0;       ///< lines read from the file
    std::uint64_t duplicates = 0;  ///< ids skipped because they came before
    std::uint64_t other_shard = 0; ///< ids skipped because they belong to another shard
  };
  tally const& counts() const noexcept { return tally_; }
  /// Bytes held by the duplicate filter.
  std::size_t filter_bytes() const noexcept { return seen_.memory_bytes(); }
  /// `counts().duplicates`, readable from any thread while another one calls `next()`.
  std::uint64_t duplicates_met() const noexcept { return duplicates_met_.load(std::memory_order_relaxed); }

  /// How many ids `next()` will meet, duplicates included, counted by reading the file once
  /// more now, when it can be read twice (a regular file; not standard input or a pipe).
  /// The users `next()` produces are this count minus the reading source's
  /// `duplicates_met()` once it has reached the end. Counting keeps no duplicate filter, so
  /// a count running beside the real reader adds no memory that grows with the file.
  /// Gives up (nullopt) as soon as `*stop` is true.
  static std::optional<std::uint64_t> count(users_options const& options,
                                            std::atomic<bool> const* stop = nullptr);

 private:
  bool read_line(std::string& line, bool& too_long);
  bool is_duplicate(std::string_view id);

  users_options options_;
  std::size_t next_arg_ = 0;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  bool regular_file_ = true;
  std::atomic<bool> const* cancel_ = nullptr;
  std::string buffer_;
  std::size_t buffer_pos_ = 0;
  void presize_filter();

  bool filter_duplicates_ = true;  // false only while counting
  bool presized_ = false;
  std::uint64_t file_size_ = 0;    // of a regular file, when it was opened
  seen_ids seen_;
  tally tally_;
  std::atomic<std::uint64_t> duplicates_met_{0};
};

}  // namespace velt::gdpr
