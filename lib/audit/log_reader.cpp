// SPDX-License-Identifier: BSL-1.0
// verify_log and scan_log: read a log's complete prefix (its size taken under a shared
// lock, so a writer's batch in progress is never seen half written) line by line.
#include "audit/file_io.hpp"
#include "audit/line.hpp"

#include <velt/audit.hpp>

#include <boost/json/parse.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace velt::audit {

namespace {

constexpr std::chrono::milliseconds read_lock_timeout{30'000};

// Calls `each(line, complete)` for every line of the first `size` bytes of `fd`: complete
// lines with their newline, then a torn tail (complete = false). A line longer than the
// 64 KiB limit is handed over cut to its first max_line_bytes + 1 bytes, and reading stops
// after it. `each` returns false to stop.
template <class Each>
void for_each_line(int fd, std::uint64_t size, std::filesystem::path const& file, Each&& each) {
  constexpr std::size_t chunk = 1 << 20;
  std::string pending;
  std::uint64_t offset = 0;
  while (offset < size) {
    std::string const data =
        detail::pread_exact(fd, offset, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - offset)), file);
    if (data.empty()) break;  // the file shrank meanwhile
    offset += data.size();
    std::string_view rest = data;
    while (!rest.empty()) {
      auto const nl = rest.find('\n');
      if (nl == std::string_view::npos) {
        pending.append(rest);
        rest = {};
        if (pending.size() > detail::max_line_bytes) {
          pending.resize(detail::max_line_bytes + 1);
          each(std::string_view(pending), false);
          return;
        }
        break;
      }
      bool go = true;
      if (pending.empty()) {
        go = each(rest.substr(0, nl + 1), true);
      } else {
        pending.append(rest.substr(0, nl + 1));
        if (pending.size() > detail::max_line_bytes + 1) pending.resize(detail::max_line_bytes + 1);
        go = each(std::string_view(pending), true);
        pending.clear();
      }
      if (!go) return;
      rest.remove_prefix(nl + 1);
    }
  }
  if (!pending.empty()) each(std::string_view(pending), false);
}

// Opens the log and returns it with the size of its complete prefix, read under LOCK_SH.
std::pair<detail::unique_fd, std::uint64_t> open_for_reading(std::filesystem::path const& file) {
  detail::unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) detail::throw_io("cannot open", file, errno);
  detail::lock_file(fd.get(), LOCK_SH, read_lock_timeout, file);
  std::uint64_t size = 0;
  try {
    size = detail::file_size(fd.get(), file);
  } catch (...) {
    detail::unlock_file(fd.get());
    throw;
  }
  detail::unlock_file(fd.get());
  return {std::move(fd), size};
}

}  // namespace

verdict verify_log(std::filesystem::path const& file, std::vector<public_key> keys, std::optional<line_ref> const& head) {
  auto [fd, size] = open_for_reading(file);
  chain_verifier verifier(std::move(keys), head);
  verdict out;
  for_each_line(fd.get(), size, file, [&](std::string_view line, bool) {
    return !verifier.feed(line).has_value();
  });
  out.failure = verifier.finish();
  out.summary = verifier.summary();
  return out;
}

void scan_log(std::filesystem::path const& file, std::function<void(line_view const&)> const& each) {
  auto [fd, size] = open_for_reading(file);
  std::uint64_t number = 0;
  for_each_line(fd.get(), size, file, [&](std::string_view line, bool complete) {
    if (!complete) return false;
    ++number;
    std::string_view const text = line.substr(0, line.size() - 1);
    boost::json::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (!ec && value.is_object()) each(line_view{number, text, value.get_object()});
    return true;
  });
}

}  // namespace velt::audit
