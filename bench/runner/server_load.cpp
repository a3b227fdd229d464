// SPDX-License-Identifier: BSL-1.0
#include "runner/server_load.hpp"

#include <velt/wire.hpp>

#include <boost/json/parse.hpp>

#include <curl/curl.h>

#include <fstream>
#include <sstream>

namespace velt::bench {

namespace json = boost::json;

namespace {

std::uint64_t number(json::object const& o, char const* key) {
  auto const* v = o.if_contains(key);
  return v ? v->to_number<std::uint64_t>() : 0;
}

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

}  // namespace

load_result run_load(load_settings const& s) {
  load_result r;
  std::vector<std::string> const argv{s.wrk.string(),
                                      "-t1",
                                      "-c" + std::to_string(s.connections),
                                      "-d" + std::to_string(s.duration.count()) + "s",
                                      "--timeout",
                                      "10s",
                                      "-s",
                                      s.script.string(),
                                      s.url};
  auto const env = environment_with({"VELT_BENCH_USERS=" + std::to_string(s.users),
                                     "VELT_BENCH_ORG=" + s.organization_id, "VELT_BENCH_SEED=1"});
  r.proc = run_child(argv, env, s.out_file, s.err_file, s.duration + std::chrono::seconds(60), s.exec_helper);
  if (!r.proc.ok()) {
    r.problem = "wrk: " + r.proc.describe();
    return r;
  }
  // wrk prints its own summary first; the script's JSON line is the last line.
  std::ifstream in(s.out_file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line.front() == '{') last = line;
  try {
    auto const o = json::parse(last).as_object();
    r.requests = number(o, "requests");
    r.duration_s = static_cast<double>(number(o, "duration_us")) / 1e6;
    r.bytes = number(o, "bytes");
    for (auto const& [k, v] : o.at("errors").as_object()) r.errors += v.to_number<std::uint64_t>();
    r.p50_us = number(o, "latency_p50_us");
    r.p99_us = number(o, "latency_p99_us");
    r.max_us = number(o, "latency_max_us");
  } catch (std::exception const& e) {
    r.problem = std::string("no summary line from the wrk script: ") + e.what();
  }
  return r;
}

fetched_export fetch_export(std::string const& base_url, std::string const& organization_id,
                            std::string const& user_id) {
  fetched_export out;
  std::string body;
  std::string const url = base_url + "export/" + organization_id + "/" + user_id;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  CURLcode const rc = curl_easy_perform(easy);  // an unfinished chunked body is an error here
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK) {
    out.problem = user_id + ": " + curl_easy_strerror(rc);
    return out;
  }
  if (status != 200) {
    out.problem = user_id + ": HTTP " + std::to_string(status);
    return out;
  }
  velt::wire::decode_limits limits;
  limits.max_body_bytes = std::size_t{1} << 31;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    auto parsed = velt::wire::parse_json(line, limits);  // exact numbers, as the truth has them
    auto fail = [&](std::string const& why) {
      out.problem = user_id + ", line " + std::to_string(out.pages) + ": " + why;
      return out;
    };
    if (!parsed || !parsed->is_object()) return fail("not a JSON object");
    auto const& o = parsed->get_object();
    if (o.contains("error")) return fail("error line " + line.substr(0, 200));
    auto const* index = o.if_contains("index");
    auto const* data = o.if_contains("data");
    if (!index || !index->is_number() || index->to_number<std::uint64_t>() != out.pages)
      return fail("index missing or out of sequence");
    if (!data || !data->is_object()) return fail("no data object");
    for (auto const& [feature, items] : data->get_object()) {
      if (!items.is_array()) return fail("feature " + std::string(feature) + " is not an array");
      auto& merged = out.data[feature];
      if (!merged.is_array()) merged = json::array();
      for (auto const& item : items.get_array()) merged.get_array().push_back(item);
    }
    ++out.pages;
  }
  if (out.pages == 0) out.problem = user_id + ": empty body";
  return out;
}

}  // namespace velt::bench
