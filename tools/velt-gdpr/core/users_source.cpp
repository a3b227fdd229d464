// SPDX-License-Identifier: BSL-1.0
#include "core/users_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace velt::gdpr {

namespace {
bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
constexpr std::size_t read_chunk = 64 * 1024;
}  // namespace

std::optional<std::string_view> parse_user_line(std::string_view line) noexcept {
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  return line;
}

users_source::users_source(users_options options) : options_(std::move(options)) {
  if (options_.file.empty()) {
    eof_ = true;
    return;
  }
  if (options_.file == "-") {
    fd_ = STDIN_FILENO;
    struct stat st {};
    regular_file_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
    if (regular_file_) file_size_ = static_cast<std::uint64_t>(st.st_size);
    return;
  }
  fd_ = ::open(options_.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw users_file_error("cannot open the users file '" + options_.file +
                           "': " + std::strerror(errno));
  }
  owns_fd_ = true;
  struct stat st {};
  if (::fstat(fd_, &st) == 0) regular_file_ = S_ISREG(st.st_mode);
  if (regular_file_) file_size_ = static_cast<std::uint64_t>(st.st_size);
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw users_file_error("the users file '" + options_.file + "' is a directory");
  }
}

users_source::~users_source() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool users_source::read_line(std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  bool any = false;
  for (;;) {
    if (buffer_pos_ < buffer_.size()) {
      any = true;
      char const* begin = buffer_.data() + buffer_pos_;
      std::size_t const avail = buffer_.size() - buffer_pos_;
      void const* nl = std::memchr(begin, '\n', avail);
      std::size_t const take = nl ? static_cast<std::size_t>(static_cast<char const*>(nl) - begin) : avail;
      // Keep at most max_id_bytes plus some room for trailing whitespace. Leading
      // whitespace is not kept (however long), and dropping only whitespace past the room
      // does not make an id too long.
      std::string_view chunk(begin, take);
      if (line.empty()) {
        while (!chunk.empty() && is_space(chunk.front())) chunk.remove_prefix(1);
      }
      std::size_t const room = options_.max_id_bytes + 64;
      std::size_t const space = room - std::min(room, line.size());
      std::size_t const keep = std::min(chunk.size(), space);
      line.append(chunk.data(), keep);
      for (char const c : chunk.substr(keep)) {
        if (!is_space(c)) {
          too_long = true;
          break;
        }
      }
      buffer_pos_ += take;
      if (nl) {
        ++buffer_pos_;
        return true;
      }
      continue;
    }
    if (eof_) return any;
    if (!regular_file_ && cancel_ != nullptr) {
      // A pipe or terminal may not deliver for a long time: wait in slices, so that a
      // stopping run does not hang on it.
      for (;;) {
        if (cancel_->load()) {
          eof_ = true;
          return any;
        }
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 200) != 0) break;
      }
    }
    buffer_.resize(read_chunk);
    buffer_pos_ = 0;
    ssize_t n;
    do {
      n = ::read(fd_, buffer_.data(), buffer_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      buffer_.clear();
      throw users_file_error("cannot read the users file '" + options_.file +
                             "': " + std::strerror(errno));
    }
    buffer_.resize(static_cast<std::size_t>(n));
    if (n == 0) eof_ = true;
    if (!presized_) presize_filter();
  }
}

void users_source::presize_filter() {
  // Estimate the ids of a regular file from its size and the lines of its first chunk, and
  // size the duplicate filter for them once: growing by doubling would hold the old and
  // the new table at the same moment (1.5 times the memory, at every doubling).
  presized_ = true;
  if (!filter_duplicates_ || !regular_file_ || buffer_.empty() || file_size_ <= buffer_.size()) return;
  auto const lines = static_cast<std::size_t>(std::count(buffer_.begin(), buffer_.end(), '\n'));
  if (lines == 0) return;
  // Only this shard's ids reach the filter.
  double const estimate = static_cast<double>(file_size_) / static_cast<double>(buffer_.size()) *
                          static_cast<double>(lines) /
                          static_cast<double>(std::max<std::uint64_t>(1, options_.shard.count));
  seen_.reserve(static_cast<std::size_t>(std::min(estimate, static_cast<double>(seen_ids::max_reserve_ids))));
}

bool users_source::is_duplicate(std::string_view id) {
  if (!filter_duplicates_ || seen_.insert(id)) return false;
  ++tally_.duplicates;
  duplicates_met_.store(tally_.duplicates, std::memory_order_relaxed);
  return true;
}

std::optional<user_entry> users_source::next() {
  while (next_arg_ < options_.ids.size()) {
    std::string id = options_.ids[next_arg_++];
    if (id.empty()) continue;
    if (!options_.shard.contains(id)) {
      ++tally_.other_shard;
      continue;
    }
    if (is_duplicate(id)) continue;
    return user_entry{std::move(id), std::nullopt};
  }
  std::string line;
  bool too_long = false;
  while (read_line(line, too_long)) {
    ++tally_.lines;
    auto const id = parse_user_line(line);
    if (!id) continue;
    if (too_long || id->size() > options_.max_id_bytes) {
      // Reported (never silently dropped), but not deduplicated or sharded: the id is unknown.
      return user_entry{std::string(id->substr(0, 64)),
                        "user id longer than " + std::to_string(options_.max_id_bytes) + " bytes"};
    }
    if (!options_.shard.contains(*id)) {
      ++tally_.other_shard;
      continue;
    }
    if (is_duplicate(*id)) continue;
    return user_entry{std::string(*id), std::nullopt};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> users_source::count(users_options const& options,
                                                 std::atomic<bool> const* stop) {
  if (!options.file.empty()) {
    if (options.file == "-") return std::nullopt;
    struct stat st {};
    if (::stat(options.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  }
  users_source counter(options);
  counter.filter_duplicates_ = false;
  std::uint64_t n = 0;
  while (counter.next()) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return std::nullopt;
    ++n;
  }
  return n;
}

}  // namespace velt::gdpr
