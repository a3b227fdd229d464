// SPDX-License-Identifier: BSL-1.0
#include "runner/mock_process.hpp"

#include "runner/process.hpp"

#include <boost/json/parse.hpp>

#include <curl/curl.h>

#include <stdexcept>

namespace velt::bench {

namespace json = boost::json;

namespace {
std::vector<std::string> command(std::filesystem::path const& exe, std::vector<std::string> const& flags) {
  std::vector<std::string> argv{exe.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}
}  // namespace

mock_process::mock_process(std::filesystem::path const& exe, std::vector<std::string> const& flags,
                           std::filesystem::path const& log_file, std::chrono::seconds ready_limit)
    : process_(command(exe, flags), environment_with({}), log_file, ready_limit) {
  auto const ready = json::parse(process_.ready_line).as_object();
  url = ready.at("url").as_string().c_str();
  ca_file = ready.at("ca_file").as_string().c_str();
  api_key = ready.at("api_key").as_string().c_str();
  auth_token = ready.at("auth_token").as_string().c_str();
  organization_id = ready.at("organization_id").as_string().c_str();
}

double mock_process::cpu_seconds() const { return process_cpu_seconds(process_.pid()); }

namespace {
std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
}  // namespace

json::object mock_process::stats() const {
  CURL* easy = curl_easy_init();
  std::string body;
  std::string const stats_url = url + "/_mock/stats";
  curl_easy_setopt(easy, CURLOPT_URL, stats_url.c_str());
  curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  CURLcode const rc = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("GET /_mock/stats: ") + curl_easy_strerror(rc));
  return json::parse(body).as_object();
}

std::uint64_t counter(json::object const& stats, char const* name) {
  auto const* v = stats.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64()) return static_cast<std::uint64_t>(v->get_int64());
  if (v->is_double()) return static_cast<std::uint64_t>(v->get_double());
  return 0;
}

}  // namespace velt::bench
