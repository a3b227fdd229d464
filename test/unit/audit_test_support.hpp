// SPDX-License-Identifier: BSL-1.0
// audit_test_support.hpp: what the Audit* tests share: a temporary directory, file
// helpers, an independent SHA-256 (OpenSSL directly), re-hashing a chain as a forger would,
// and a sample log of every event.
#pragma once

#include <velt/audit.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace velt::audit::test {

/// A fresh directory under the test temp dir, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "velt-audit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  temp_dir(temp_dir const&) = delete;
  temp_dir& operator=(temp_dir const&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path const& path() const { return path_; }
  std::filesystem::path operator/(std::string const& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_all(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(std::filesystem::path const& p, std::string const& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// The lines of `text`, each with its newline (a last line without one as it is).
inline std::vector<std::string> split_lines(std::string const& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto const nl = text.find('\n', start);
    auto const end = nl == std::string::npos ? text.size() : nl + 1;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

inline std::string join(std::vector<std::string> const& lines) {
  std::string out;
  for (auto const& l : lines) out += l;
  return out;
}

/// SHA-256 as lower-case hex, computed here and not by the library.
inline std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xF];
  }
  return out;
}

/// The design note's rule: D is the line without `,"h":"<64 hex>"}` and its newline, with `}`.
inline std::string hashed_part(std::string const& line) {
  std::string const text = line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
  return text.substr(0, text.size() - 72) + "}";
}

/// Feeds `text` to a verifier; the first problem or none.
inline std::optional<problem> verify_text(std::string const& text, std::vector<public_key> keys = {},
                                          std::optional<line_ref> head = {}) {
  chain_verifier v(std::move(keys), std::move(head));
  for (auto const& line : split_lines(text)) {
    if (auto p = v.feed(line)) return p;
  }
  return v.finish();
}

/// Re-hashes every line from the first (prev and h), as a forger who edited a line would;
/// signatures are left as they are.
inline std::string rehash_chain(std::string const& text) {
  std::string prev(64, '0');
  std::string out;
  for (auto const& line : split_lines(text)) {
    auto parsed = boost::json::parse(line.substr(0, line.size() - 1)).as_object();
    boost::json::object o;
    for (auto const& m : parsed) {
      if (m.key() == "h") continue;
      if (m.key() == "prev") {
        o.emplace("prev", prev);
      } else {
        o.emplace(m.key(), m.value());
      }
    }
    std::string d = boost::json::serialize(o);
    prev = sha256_hex(d);
    d.pop_back();
    out += d + ",\"h\":\"" + prev + "\"}\n";
  }
  return out;
}

/// A run of every event (30 lines: run_start, 28 events, run_end) appended to `file`.
inline line_ref write_sample_run(std::filesystem::path const& file, signing_key const* key = nullptr) {
  auto w = log_writer::open(file);
  run_info info;
  info.command = "erase";
  info.organization_id = "org-1";
  info.base_url = "https://api.velt.dev";
  info.args = {"erase", "--audit-log", file.string()};
  w.begin_run(info, key);
  std::vector<event> events;
  for (int i = 0; i < 3; ++i) {
    std::string const user = "user-" + std::to_string(i) + "@example.com";
    events.push_back({"exported", {{"userId", user}, {"file", "users/" + user_file_stem(user) + ".json"},
                                   {"pages", 1}, {"items", 3}, {"bytes", 1200}, {"sha256", std::string(64, 'a')}}});
    events.push_back({"export_failed", {{"userId", user}, {"status", "UNAVAILABLE"}, {"httpStatus", 503}, {"attempts", 4}}});
    events.push_back({"packaged", {{"userId", user}, {"file", "u.zip"}, {"bytes", 99}, {"sha256", std::string(64, 'b')}}});
    events.push_back({"deletion_requested", {{"userId", user}, {"jobId", "job-" + std::to_string(i)}}});
    events.push_back({"deletion_failed", {{"userId", user}, {"status", "INTERNAL"}, {"httpStatus", 500}, {"maybeQueued", true}}});
    events.push_back({"deletion_completed", {{"jobId", "job-" + std::to_string(i)}, {"users", 1}, {"tasksLeft", 0},
                                             {"lastTaskCompletedTime", 1765000000123}}});
    events.push_back({"deletion_unfinished", {{"jobId", "job-x"}, {"users", 1}, {"status", "pending"}}});
    events.push_back({"verified", {{"userId", user}, {"pages", 1}, {"items", 2}, {"itemsByFeature", {{"comments", 2}}}}});
    events.push_back({"unverified", {{"userId", user}, {"status", "UNAVAILABLE"}}});
  }
  events.push_back({"deletion_requested", {{"userId", "user-3@example.com"}, {"jobId", "job-3"}}});
  w.append(std::span<event const>(events.data(), 10));
  w.append(std::span<event const>(events.data() + 10, events.size() - 10));
  return w.end_run("complete", 0, {{"jobs", 3}, {"users", 3}, {"failed", 0}});
}

}  // namespace velt::audit::test
