// SPDX-License-Identifier: BSL-1.0
// Exports many users with velt::batch_exporter and prints one NDJSON line per complete user.
//
//   VELT_API_KEY=... VELT_AUTH_TOKEN=... batch_export --base-url URL [--ca-file F]
//       --org ORG --users-file F [--concurrency N]
//
// stdout: {"organizationId":"...","userId":"...","pages":N,"data":{"comments":[...],...}}
//   with every feature the server sent (the four documented ones always present), each
//   item exactly as the server wrote it, merged across pages in order.
// stderr: one line per user that failed, naming the user and the canonical status.
// Exit status: 0, 3 when any user failed, 2 for bad arguments or credentials.
//
// The users file is read as it goes (one id per line; blank lines and lines starting with
// '#' are skipped), so its size does not matter: only `--concurrency` users are in memory.
#include <velt/batch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;

namespace {

/// Appends `s` as a JSON string (ids may hold any character).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

/// Appends an item's JSON text without the whitespace between its tokens, so that the line
/// stays one line. Strings are copied as they are: the item's value does not change.
void append_compact(std::string& out, std::string_view item) {
  bool in_string = false, escaped = false;
  for (char c : item) {
    if (in_string) {
      out += c;
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else if (c == '"') {
      in_string = true;
    }
    out += c;
  }
}

/// Collects one user's items, feature by feature, and prints the user's line at the end.
/// Everything runs on one thread here (one io_context run by main), so no lock is needed.
class ndjson_sink final : public velt::user_sink {
 public:
  ndjson_sink(std::string const& org, std::string const& user, bool& any_failed)
      : org_(org), user_(user), any_failed_(any_failed) {
    for (char const* name : velt::known_features) order_.push_back(name);
  }

  asio::awaitable<void> async_page(velt::user_data_page page) override {
    ++pages_;
    for (velt::raw_feature const& f : page.raw_features()) {
      auto [it, added] = items_.try_emplace(f.name);
      if (added && !is_known(f.name)) order_.push_back(f.name);
      std::string& text = it->second;
      if (page.raw_items_compact() && !f.text.empty()) {
        // The whole array body as sent, already one line: no per-item work at all.
        if (!text.empty()) text += ',';
        text += f.text;
        continue;
      }
      for (std::string_view item : f.items) {
        if (!text.empty()) text += ',';
        append_compact(text, item);
      }
    }
    co_return;
  }

  asio::awaitable<void> async_finish(velt::user_outcome const& outcome) override {
    using state = velt::user_outcome::state;
    if (outcome.what == state::failed) {
      any_failed_ = true;
      std::cerr << "user " << user_ << " failed: " << outcome.error.to_string() << "\n";
      co_return;
    }
    if (outcome.what != state::complete) co_return;
    std::string line = "{\"organizationId\":";
    append_json_string(line, org_);
    line += ",\"userId\":";
    append_json_string(line, user_);
    line += ",\"pages\":" + std::to_string(pages_) + ",\"data\":{";
    for (std::size_t i = 0; i < order_.size(); ++i) {
      if (i > 0) line += ',';
      append_json_string(line, order_[i]);
      line += ":[";
      if (auto it = items_.find(order_[i]); it != items_.end()) line += it->second;
      line += ']';
    }
    line += "}}\n";
    std::cout << line << std::flush;
    co_return;
  }

 private:
  static bool is_known(std::string_view name) {
    for (char const* k : velt::known_features)
      if (name == k) return true;
    return false;
  }

  std::string const& org_;
  std::string user_;
  bool& any_failed_;
  std::size_t pages_ = 0;
  std::vector<std::string> order_;            // features in the order first seen
  std::map<std::string, std::string> items_;  // feature -> its items joined by commas
};

/// The users file, read a few lines at a time as the exporter asks for ids.
class file_users final : public velt::user_source {
 public:
  explicit file_users(std::string const& path) : in_(path) {
    if (!in_) throw std::runtime_error("cannot open the users file " + path);
  }
  asio::awaitable<std::vector<std::string>> async_pull(std::size_t max) override {
    std::vector<std::string> ids;
    std::string line;
    while (ids.size() < max && std::getline(in_, line)) {
      auto const first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      auto const last = line.find_last_not_of(" \t\r");
      ids.push_back(line.substr(first, last - first + 1));
    }
    if (in_.bad()) throw std::runtime_error("cannot read the users file");
    co_return ids;
  }

 private:
  std::ifstream in_;
};

struct arguments {
  std::string base_url, ca_file, org, users_file;
  std::size_t concurrency = 32;
};

std::optional<arguments> parse(int argc, char** argv) {
  arguments a;
  for (int i = 1; i < argc; ++i) {
    std::string_view const flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "batch_export: " << flag << " needs a value\n";
      return std::nullopt;
    }
    std::string const value = argv[++i];
    if (flag == "--base-url") a.base_url = value;
    else if (flag == "--ca-file") a.ca_file = value;
    else if (flag == "--org") a.org = value;
    else if (flag == "--users-file") a.users_file = value;
    else if (flag == "--concurrency") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), a.concurrency);
      if (ec != std::errc() || p != value.data() + value.size() || a.concurrency == 0) {
        std::cerr << "batch_export: --concurrency must be a positive number\n";
        return std::nullopt;
      }
    } else {
      std::cerr << "batch_export: unknown option " << flag << "\n";
      return std::nullopt;
    }
  }
  if (a.base_url.empty() || a.org.empty() || a.users_file.empty()) {
    std::cerr << "usage: batch_export --base-url URL [--ca-file F] --org ORG --users-file F "
                 "[--concurrency N]\n";
    return std::nullopt;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  if (!args) return 2;
  char const* key = std::getenv("VELT_API_KEY");
  char const* token = std::getenv("VELT_AUTH_TOKEN");
  if (!key || !*key || !token || !*token) {
    std::cerr << "batch_export: set VELT_API_KEY and VELT_AUTH_TOKEN\n";
    return 2;
  }
  velt::client_options options;
  options.base_url = args->base_url;
  options.ca_file = args->ca_file;
  options.api_key = key;
  options.auth_token = token;
  options.max_connections = args->concurrency;

  asio::io_context io;
  bool any_failed = false;
  std::optional<velt::batch_result> result;
  try {
    velt::client client(io.get_executor(), options);
    velt::batch_exporter exporter(client, {.organization_id = args->org, .concurrency = args->concurrency});
    auto sinks = [&](std::string const& user) {
      return std::make_unique<ndjson_sink>(args->org, user, any_failed);
    };
    exporter.async_run(std::make_unique<file_users>(args->users_file), sinks,
                       [&](boost::system::error_code, velt::batch_result r) { result = std::move(r); });
    io.run();
  } catch (std::exception const& e) {  // invalid options, an unreadable users file
    std::cerr << "batch_export: " << e.what() << "\n";
    return 2;
  }
  using end = velt::batch_result::end;
  if (result && result->how == end::credentials_refused) {
    std::cerr << "batch_export: the server refused the credentials: " << result->error.to_string() << "\n";
    return result->credentials_worked_before ? 3 : 2;
  }
  if (result && result->how != end::complete) {
    std::cerr << "batch_export: stopped: " << result->error.to_string() << "\n";
    return 3;
  }
  return any_failed ? 3 : 0;
}
