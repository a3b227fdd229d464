// SPDX-License-Identifier: BSL-1.0
// Shared by the velt-gdpr tests: the local server, running the program, temporary
// directories, reading and comparing export files.
#pragma once

#include "../support/subprocess.hpp"

#include "core/file_name.hpp"

#include <velt/mock/server.hpp>
#include <velt/wire.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace velt::test::cli {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// velt-gdpr as these tests start it: stderr on a pipe of its own (err()), no VELT_*
/// variable inherited (the test passes the credentials it means), stdin /dev/null.
class process : public subprocess {
 public:
  process(std::vector<std::string> argv, std::vector<std::string> env)
      : subprocess(std::move(argv), std::move(env),
                   {.err = stderr_mode::captured, .environment = inherit_env::all_but_velt, .null_stdin = true}) {}
};

/// Distinctive secrets: no output of the program may contain them.
inline constexpr char const* secret_api_key = "ak-7f3b9c2e-SECRET-KEY-d41d8cd98f";
inline constexpr char const* secret_auth_token = "at-91d2e4aa-SECRET-TOKEN-0cc175b9c0";

/// A fresh directory, removed with its content at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::string templ = (fs::temp_directory_path() / "velt-cli-test-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(temp_dir const&) = delete;
  temp_dir& operator=(temp_dir const&) = delete;
  fs::path const& path() const { return path_; }
  fs::path operator/(std::string const& name) const { return path_ / name; }

 private:
  fs::path path_;
};

/// A small data set with several pages per user, over TLS, with the distinctive secrets.
inline mock::server_options small_server(std::size_t users = 12) {
  mock::server_options so;
  so.api_key = secret_api_key;
  so.auth_token = secret_auth_token;
  so.data.users = users;
  so.data.min_items = 20;
  so.data.max_items = 120;
  so.data.page_size = 40;  // several pages per user, small bodies
  so.data.heavy_users = 0;
  so.data.empty_user_fraction = 0.1;
  so.data.extra_feature = true;
  so.delete_tasks = 2;
  so.delete_task_duration = 20ms;
  return so;
}

inline std::vector<std::string> credentials_env(mock::server const& srv) {
  return {"VELT_API_KEY=" + srv.api_key(), "VELT_AUTH_TOKEN=" + srv.auth_token()};
}

/// `velt-gdpr <command> --org ORG --base-url URL --ca-file CA --progress never` and `extra`.
inline std::vector<std::string> command(std::string const& name, mock::server const& srv,
                                        std::vector<std::string> const& extra = {}) {
  std::vector<std::string> args{VELT_GDPR_BINARY, name, "--org", srv.organization_id(), "--base-url",
                                srv.url(), "--ca-file", srv.ca_file().string()};
  if (name != "erase-status") {
    args.push_back("--progress");
    args.push_back("never");
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// `velt-gdpr erase` as `command` makes it, with the audit log it requires:
/// `--audit-log DIR/audit.jsonl`.
inline std::vector<std::string> erase_command(mock::server const& srv, temp_dir const& dir,
                                              std::vector<std::string> const& extra = {}) {
  std::vector<std::string> e{"--audit-log", (dir / "audit.jsonl").string()};
  e.insert(e.end(), extra.begin(), extra.end());
  return command("erase", srv, e);
}

/// The arguments of an export of `users` (all of the server's when empty) into `out`.
inline std::vector<std::string> export_command(mock::server const& srv, fs::path const& out,
                                               std::vector<std::string> const& extra = {}) {
  std::vector<std::string> e{"--out", out.string()};
  e.insert(e.end(), extra.begin(), extra.end());
  return command("export", srv, e);
}

struct run_result {
  int code = -1;
  std::string out, err;
};

/// Runs the program to completion (failing the test after `limit`).
inline run_result run(std::vector<std::string> args, std::vector<std::string> env,
                      std::chrono::milliseconds limit = 90s) {
  process p(std::move(args), std::move(env));
  auto const code = p.wait(limit);
  EXPECT_TRUE(code.has_value()) << "velt-gdpr did not finish in time; stderr:\n" << p.err();
  return {code.value_or(-1), p.out(), p.err()};
}

inline std::string read_text(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(fs::path const& p, std::string const& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// A file with the users, one per line.
inline fs::path users_file(temp_dir const& dir, std::vector<std::string> const& users,
                           std::string const& name = "users.txt") {
  std::string text;
  for (auto const& u : users) text += u + "\n";
  write_text(dir / name, text);
  return dir / name;
}

/// name -> content of every entry of `dir` (non-recursive; directories as "<dir>").
inline std::map<std::string, std::string> files_in(fs::path const& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (auto const& e : fs::directory_iterator(dir)) {
    out[e.path().filename().string()] = e.is_regular_file() ? read_text(e.path()) : "<dir>";
  }
  return out;
}

inline unsigned mode_of(fs::path const& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

/// Parses an export file with exact numbers.
inline boost::json::object parse_export(fs::path const& file) {
  auto parsed = velt::wire::parse_json(read_text(file));
  if (!parsed || !parsed->is_object()) return {};
  return std::move(parsed->get_object());
}

/// The file of `user` holds exactly the server's data for it: organizationId, userId,
/// pages, every feature in the server's order, the four known ones present.
/// Numbers are compared exactly (Boost.JSON's ==: an integer never equals a double).
inline ::testing::AssertionResult export_matches(mock::server const& srv, fs::path const& out,
                                                 std::string const& user) {
  fs::path const file = out / "users" / velt::gdpr::export_file_name(user);
  if (!fs::exists(file)) return ::testing::AssertionFailure() << "no file for " << user;
  auto const doc = parse_export(file);
  if (doc.empty()) return ::testing::AssertionFailure() << file << " is not a JSON object";
  if (doc.size() != 5) return ::testing::AssertionFailure() << file << " has " << doc.size() << " members";
  if (doc.at("organizationId") != boost::json::value(srv.organization_id()))
    return ::testing::AssertionFailure() << "organizationId of " << user;
  if (doc.at("userId") != boost::json::value(user)) return ::testing::AssertionFailure() << "userId of " << user;
  if (!doc.at("exportedAt").is_string() || doc.at("exportedAt").get_string().size() != 20)
    return ::testing::AssertionFailure() << "exportedAt of " << user;
  if (doc.at("pages").to_number<std::uint64_t>() != srv.expected_pages(user))
    return ::testing::AssertionFailure() << "pages of " << user << ": " << doc.at("pages") << " vs "
                                         << srv.expected_pages(user);
  auto const& data = doc.at("data").as_object();
  auto const expected = srv.expected_export(user);
  for (char const* known : {"comments", "reactions", "recordings", "notifications"}) {
    if (!data.contains(known)) return ::testing::AssertionFailure() << known << " missing for " << user;
  }
  for (auto const& m : expected) {
    auto const* got = data.if_contains(m.key());
    if (!got) return ::testing::AssertionFailure() << "feature " << m.key() << " missing for " << user;
    if (*got != m.value())
      return ::testing::AssertionFailure() << "feature " << m.key() << " differs for " << user << ": "
                                           << got->as_array().size() << " items vs "
                                           << m.value().as_array().size();
  }
  for (auto const& m : data) {
    if (!expected.contains(m.key()) && !m.value().as_array().empty())
      return ::testing::AssertionFailure() << "unexpected feature " << m.key() << " for " << user;
  }
  // Server order: the expected keys appear in the same relative order.
  auto it = data.begin();
  for (auto const& m : expected) {
    while (it != data.end() && it->key() != m.key()) ++it;
    if (it == data.end()) return ::testing::AssertionFailure() << "feature order differs for " << user;
  }
  return ::testing::AssertionSuccess();
}

/// Every user of `users` has a matching file and DIR/users holds nothing else.
inline void expect_exact_export(mock::server const& srv, fs::path const& out, std::vector<std::string> const& users) {
  std::set<std::string> names;
  for (auto const& u : users) {
    EXPECT_TRUE(export_matches(srv, out, u));
    names.insert(velt::gdpr::export_file_name(u));
  }
  for (auto const& [name, content] : files_in(out / "users")) {
    EXPECT_TRUE(names.count(name)) << "unexpected entry in users/: " << name;
  }
}

/// The export file with its "exportedAt" value blanked out.
inline std::string without_exported_at(std::string text) {
  auto const at = text.find("\"exportedAt\":\"");
  if (at != std::string::npos) text.replace(at + 14, 20, std::string(20, '_'));
  return text;
}

/// report.json, parsed.
inline boost::json::object report_of(fs::path const& out) {
  boost::json::error_code ec;
  auto v = boost::json::parse(read_text(out / "report.json"), ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

inline std::uint64_t users_count(boost::json::object const& report, char const* which) {
  auto const* users = report.if_contains("users");
  if (!users) return 9999;
  return users->at(which).to_number<std::uint64_t>();
}

/// Polls `condition` every 10 ms for up to `limit`.
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 30s) {
  auto const end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

/// Number of *.json files in DIR/users.
inline std::size_t exported_files(fs::path const& out) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(out / "users", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".json") ++n;
  }
  return n;
}

}  // namespace velt::test::cli
