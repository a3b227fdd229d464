// SPDX-License-Identifier: BSL-1.0
// Small helpers shared by the benchmark clients (baseline, floor, SDK exporter): argument
// parsing, the users file, output file names and atomic writes, latency percentiles and
// the one-line JSON summary every client prints on stdout when it ends.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace velt::bench {

/// `--name value` pairs (every option takes a value). Unknown names are an error.
class args {
 public:
  args(int argc, char** argv, std::vector<std::string> known) {
    for (int i = 1; i < argc; ++i) {
      std::string const name = argv[i];
      if (std::find(known.begin(), known.end(), name) == known.end())
        throw std::invalid_argument("unknown option " + name);
      if (i + 1 >= argc) throw std::invalid_argument(name + " needs a value");
      values_[name] = argv[++i];
    }
  }
  std::string get(std::string const& name, std::string fallback = {}) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  std::string required(std::string const& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::invalid_argument(name + " is required");
    return it->second;
  }
  std::size_t number(std::string const& name, std::size_t fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::stoul(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

inline std::string env(char const* name) {
  char const* v = std::getenv(name);
  if (v == nullptr || *v == '\0') throw std::invalid_argument(std::string(name) + " is not set");
  return v;
}

/// One user id a line; blank lines and `#` comments skipped, whitespace trimmed.
inline std::vector<std::string> read_users(std::string const& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open users file " + file);
  std::vector<std::string> users;
  std::string line;
  while (std::getline(in, line)) {
    auto const b = line.find_first_not_of(" \t\r\n");
    if (b == std::string::npos || line[b] == '#') continue;
    auto const e = line.find_last_not_of(" \t\r\n");
    users.push_back(line.substr(b, e - b + 1));
  }
  return users;
}

/// The export file name of a user, as velt-gdpr names it for ordinary ids: the bytes
/// `A-Z a-z 0-9 . _ -` kept, every other byte `%XX`, a leading `.` written `%2E`.
inline std::string file_name(std::string_view id) {
  static char const hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < id.size(); ++i) {
    auto const c = static_cast<unsigned char>(id[i]);
    bool const keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || (c == '.' && i > 0);
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + ".json";
}

/// Writes `content` to `dir/name` through a temporary file, fsync and rename.
inline void write_atomically(std::string const& dir, std::string const& name, std::string_view content) {
  std::string const tmp = dir + "/.tmp-" + name;
  int const fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + tmp);
  char const* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t const n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int const err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "write " + tmp);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  std::string const final_path = dir + "/" + name;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(), "rename " + final_path);
}

/// "2025-01-02T03:04:05Z" for now.
inline std::string utc_now() {
  std::time_t const t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Request latencies in microseconds; percentiles by nearest rank.
class latencies {
 public:
  void add(std::chrono::steady_clock::duration d) {
    samples_.push_back(static_cast<std::uint32_t>(
        std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count(), UINT32_MAX)));
  }
  std::uint64_t percentile(double p) {
    if (samples_.empty()) return 0;
    std::sort(samples_.begin(), samples_.end());
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples_.size()) + 0.5);
    rank = std::clamp<std::size_t>(rank, 1, samples_.size());
    return samples_[rank - 1];
  }
  std::size_t count() const { return samples_.size(); }

 private:
  std::vector<std::uint32_t> samples_;
};

/// The summary line: `{"client":"...","users":n,...,"latency_p50_us":n,"latency_p99_us":n}`.
struct summary {
  std::string client;
  std::uint64_t users_ok = 0, users_failed = 0, pages = 0, body_bytes = 0, retries = 0;
  double elapsed_s = 0;
  std::uint64_t p50_us = 0, p99_us = 0;
  std::string extra;  // more `"key":value` pairs, comma-separated, without braces

  void print() const {
    std::printf(
        "{\"client\":\"%s\",\"users_ok\":%llu,\"users_failed\":%llu,\"pages\":%llu,"
        "\"body_bytes\":%llu,\"retries\":%llu,\"elapsed_s\":%.3f,\"latency_p50_us\":%llu,"
        "\"latency_p99_us\":%llu%s%s}\n",
        client.c_str(), static_cast<unsigned long long>(users_ok),
        static_cast<unsigned long long>(users_failed), static_cast<unsigned long long>(pages),
        static_cast<unsigned long long>(body_bytes), static_cast<unsigned long long>(retries), elapsed_s,
        static_cast<unsigned long long>(p50_us), static_cast<unsigned long long>(p99_us),
        extra.empty() ? "" : ",", extra.c_str());
    std::fflush(stdout);
  }
};

}  // namespace velt::bench
