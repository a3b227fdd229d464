// SPDX-License-Identifier: BSL-1.0
// Fuzzes the CLI's users file reader (tools/velt-gdpr/core/users_source.hpp): the lines of
// a users file plus `--user` values, with duplicates, shards and over-long ids, compared
// with a model of the documented behaviour written here independently.
//
// Input: [flags: 1 byte][args length: 1 byte, when flags & 0x40][args][pad: 1 byte, when
//        flags & 0x80][the users file: the rest]
//   flags & 0x0F: max_id_bytes, one of kMaxIdBytes (4096 is the CLI's value).
//   (flags >> 4) & 3: the number of shards N - 1; every shard K of N is read in turn.
//   flags & 0x40: `--user` values: the args bytes split at '\n' (empty values included).
//   flags & 0x80: the file starts with a comment line of 65536 - pad bytes, so that the
//                 input's lines straddle the reader's 64 KiB read chunk.
// The file is a memfd, opened by path (/proc/self/fd/N) like any regular file.
//
// Invariants (besides ASan/UBSan), for every shard K of N:
//   - next() yields exactly the model's sequence: the `--user` values first (empty ones
//     skipped; taken as given), then each line of the file trimmed of SP HTAB CR LF VT FF,
//     without blank lines and comments (first non-blank byte '#'), keeping only the ids
//     of shard K (FNV-1a 64 of the id mod N, reimplemented here) and the first occurrence
//     of each id; an id longer than max_id_bytes (or a line longer than max_id_bytes + 64)
//     is reported with a problem "user id longer than <max> bytes" and at most its first
//     64 bytes, never dropped silently, and is neither deduplicated nor sharded;
//   - counts(): lines read, duplicates and other-shard ids as in the model;
//   - users_source::count() is the number of ids next() meets, duplicates included: the
//     users it yields plus the duplicates it skipped (duplicates_met(), the progress
//     total's correction);
//   - over all K, the shards' ids are disjoint and together the unsharded ids (implied
//     by the model, checked by comparing with it for every K).
#include "fuzz_support.hpp"

#include "core/users_source.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using velt::fuzz::check;

constexpr std::array<std::size_t, 16> kMaxIdBytes = {1,  2,   3,   7,   8,   16,   31,   63,
                                                     64, 65,  128, 200, 255, 1000, 4096, 4096};

// Found by this fuzzer and fixed (regressions/fuzz_users_file/tools_bug_*): the reader
// kept only the first max_id_bytes + 64 bytes of a line, so an id after that much leading
// whitespace was dropped silently, and a short id followed by much whitespace was reported
// as too long. The model below is the documented rule: only the trimmed id's length counts.

bool ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

struct expected_entry {
  std::string id;  ///< for a problem: the whole trimmed id (the reader gives a prefix)
  bool problem = false;
};

struct model {
  std::vector<expected_entry> entries;
  std::uint64_t lines = 0, duplicates = 0, other_shard = 0;
};

model run_model(std::vector<std::string> const& args, std::string_view file, std::size_t max_id,
                std::uint64_t shard, std::uint64_t shards) {
  model m;
  std::set<std::string, std::less<>> seen;
  auto in_shard = [&](std::string_view id) { return shards <= 1 || fnv1a64(id) % shards == shard; };
  for (auto const& id : args) {
    if (id.empty()) continue;
    if (!in_shard(id)) {
      ++m.other_shard;
    } else if (!seen.insert(id).second) {
      ++m.duplicates;
    } else {
      m.entries.push_back({id, false});
    }
  }
  std::size_t start = 0;
  while (start < file.size()) {
    std::size_t nl = file.find('\n', start);
    std::size_t const end = nl == std::string_view::npos ? file.size() : nl;
    std::string_view const line = file.substr(start, end - start);
    start = nl == std::string_view::npos ? file.size() : nl + 1;
    ++m.lines;
    std::string_view const id = trim(line);
    if (id.empty() || id.front() == '#') continue;
    if (id.size() > max_id) {
      m.entries.push_back({std::string(id), true});
      continue;
    }
    if (!in_shard(id)) {
      ++m.other_shard;
    } else if (!seen.insert(std::string(id)).second) {
      ++m.duplicates;
    } else {
      m.entries.push_back({std::string(id), false});
    }
  }
  return m;
}

int users_file() {
  static int const fd = [] {
    int const f = ::memfd_create("fuzz_users_file", MFD_CLOEXEC);
    check(f >= 0, "memfd_create failed");
    return f;
  }();
  return fd;
}

void write_file(std::string_view bytes) {
  int const fd = users_file();
  check(::ftruncate(fd, 0) == 0, "ftruncate failed");
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t const n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(done));
    check(n > 0, "pwrite failed");
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  std::uint8_t const flags = in.byte();
  std::size_t const max_id = kMaxIdBytes[flags & 0x0F];
  std::uint64_t const shards = ((flags >> 4) & 3) + 1;

  std::vector<std::string> args;
  if (flags & 0x40) {
    std::string_view blob = in.take(in.byte());
    for (;;) {
      auto const nl = blob.find('\n');
      args.emplace_back(blob.substr(0, nl));
      if (nl == std::string_view::npos) break;
      blob.remove_prefix(nl + 1);
    }
  }
  std::string file;
  if (flags & 0x80) {
    std::size_t const pad = 65536 - in.byte();
    file.assign(pad - 1, 'p');
    file.front() = '#';
    file += '\n';
  }
  file.append(in.rest());
  write_file(file);

  velt::gdpr::users_options options;
  options.ids = args;
  options.file = "/proc/self/fd/" + std::to_string(users_file());
  options.max_id_bytes = max_id;
  std::string const problem = "user id longer than " + std::to_string(max_id) + " bytes";

  for (std::uint64_t k = 0; k < shards; ++k) {
    options.shard = {k, shards};
    model const m = run_model(args, file, max_id, k, shards);

    velt::gdpr::users_source source(options);
    std::size_t i = 0;
    while (auto entry = source.next()) {
      check(i < m.entries.size(), "the reader yields more users than the file holds");
      expected_entry const& want = m.entries[i++];
      check(entry->problem.has_value() == want.problem,
            want.problem ? "an over-long id was not reported as one"
                         : "an id within the limit was reported as a problem");
      if (want.problem) {
        check(*entry->problem == problem, "an over-long id's problem has an unexpected text");
        check(!entry->id.empty() && entry->id.size() <= 64 &&
                  std::string_view(want.id).substr(0, entry->id.size()) == entry->id,
              "an over-long id is not reported by (up to) its first 64 bytes");
      } else {
        check(entry->id == want.id, "the reader yields a different id than the model");
      }
    }
    check(i == m.entries.size(), "the reader yields fewer users than the model (an id dropped)");
    auto const& t = source.counts();
    check(t.lines == m.lines, "counts().lines differs from the number of lines in the file");
    check(t.duplicates == m.duplicates, "counts().duplicates differs from the model");
    check(t.other_shard == m.other_shard, "counts().other_shard differs from the model");

    auto const n = velt::gdpr::users_source::count(options);
    check(n.has_value(), "count() could not count a regular file");
    check(source.duplicates_met() == m.duplicates, "duplicates_met() differs from the model");
    check(*n == m.entries.size() + m.duplicates,
          "count() differs from what next() yields plus the duplicates it skipped");
  }
  return 0;
}
