// SPDX-License-Identifier: BSL-1.0
// velt-bench-baseline: the export a user could write in an afternoon instead of using the
// SDK — libcurl's multi interface, Boost.JSON's DOM, one file per user.
//
//   VELT_API_KEY=... VELT_AUTH_TOKEN=... velt-bench-baseline --base-url URL --ca-file CA
//       --org ORG --users-file FILE --out DIR --connections C [--concurrency N]
//
// What it does, deliberately straightforward but not crippled:
// - one CURLM, at most C connections (CURLMOPT_MAX_TOTAL_CONNECTIONS and
//   MAX_HOST_CONNECTIONS = C), HTTP/1.1 keep-alive, TLS verified against --ca-file, TLS
//   sessions shared between handles (CURLSH), TCP_NODELAY (curl's default);
// - N users in flight (default C), each with its own easy handle that is reused for every
//   request of every user it serves, with a response buffer that is reused too;
// - each page is parsed once with boost::json::parse, its feature arrays are moved into the
//   user's merged object, nextPageToken (absent / null / "" = end) is followed;
// - the user's file DIR/users/<id>.json is `{"organizationId","userId","exportedAt",
//   "pages","data":{...}}` (velt-gdpr's shape; the four known features always present),
//   written to a temporary file, fsync'ed and renamed;
// - transport failures, HTTP 429 and 5xx are resent at once, up to 6 attempts.
// Known limitation (Boost.JSON 1.81): boost::json::parse rounds some doubles one ULP off,
// so a few numbers in its files differ from the server's in the last digit.
//
// At the end it prints one JSON line (see bench_common.hpp) with its own request latency
// percentiles: from handing a request to curl to having its whole body.
#include "common/bench_common.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <curl/curl.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace vb = velt::bench;
using clock_type = std::chrono::steady_clock;

constexpr unsigned max_attempts = 6;
constexpr char const* known_features[] = {"comments", "reactions", "recordings", "notifications"};

struct slot {
  CURL* easy = nullptr;
  std::string response;
  std::string request;
  std::string user;
  std::optional<std::string> token;
  json::object merged;
  std::size_t pages = 0;
  unsigned attempts = 0;
  clock_type::time_point started;
  bool busy = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<slot*>(user)->response.append(data, size * n);
  return size * n;
}

class exporter {
 public:
  exporter(vb::args const& a)
      : base_url_(a.required("--base-url")),
        ca_file_(a.required("--ca-file")),
        org_(a.required("--org")),
        out_dir_(a.required("--out") + "/users"),
        users_(vb::read_users(a.required("--users-file"))),
        connections_(a.number("--connections", 16)),
        concurrency_(a.number("--concurrency", connections_)) {
    std::string const mkdir_out = a.required("--out");
    ::mkdir(mkdir_out.c_str(), 0700);
    ::mkdir(out_dir_.c_str(), 0700);
    url_ = base_url_ + "/v2/users/data/get";
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Accept: application/json");
    headers_ = curl_slist_append(headers_, ("x-velt-api-key: " + vb::env("VELT_API_KEY")).c_str());
    headers_ = curl_slist_append(headers_, ("x-velt-auth-token: " + vb::env("VELT_AUTH_TOKEN")).c_str());
    headers_ = curl_slist_append(headers_, "Expect:");

    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);

    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(connections_));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections_));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(connections_));

    slots_.resize(concurrency_);
    for (auto& s : slots_) {
      s.easy = curl_easy_init();
      s.response.reserve(1 << 20);
      curl_easy_setopt(s.easy, CURLOPT_URL, url_.c_str());
      curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers_);
      curl_easy_setopt(s.easy, CURLOPT_CAINFO, ca_file_.c_str());
      curl_easy_setopt(s.easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
      curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s);
      curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
      curl_easy_setopt(s.easy, CURLOPT_SHARE, share_);
      curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(s.easy, CURLOPT_TIMEOUT, 360L);
      curl_easy_setopt(s.easy, CURLOPT_USERAGENT, "velt-bench-baseline");
    }
  }

  ~exporter() {
    for (auto& s : slots_) curl_easy_cleanup(s.easy);
    curl_multi_cleanup(multi_);
    curl_share_cleanup(share_);
    curl_slist_free_all(headers_);
  }

  vb::summary run() {
    auto const started = clock_type::now();
    for (auto& s : slots_) start_user(s);
    int running = 0;
    while (busy_ > 0) {
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        slot* s = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
        CURLcode const result = m->data.result;
        curl_multi_remove_handle(multi_, m->easy_handle);
        done(*s, result);
      }
      if (busy_ == 0) break;
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    vb::summary out;
    out.client = "baseline";
    out.users_ok = users_ok_;
    out.users_failed = users_failed_;
    out.pages = pages_;
    out.body_bytes = body_bytes_;
    out.retries = retries_;
    out.elapsed_s = std::chrono::duration<double>(clock_type::now() - started).count();
    out.p50_us = latency_.percentile(50);
    out.p99_us = latency_.percentile(99);
    return out;
  }

 private:
  void start_user(slot& s) {
    if (next_user_ >= users_.size()) {
      if (s.busy) --busy_;
      s.busy = false;
      return;
    }
    if (!s.busy) ++busy_;
    s.busy = true;
    s.user = users_[next_user_++];
    s.token.reset();
    s.merged = json::object();
    s.pages = 0;
    send(s);
  }

  void send(slot& s) {
    json::object data;
    data["organizationId"] = org_;
    data["userId"] = s.user;
    if (s.token) data["pageToken"] = *s.token;
    json::object envelope;
    envelope["data"] = std::move(data);
    s.request = json::serialize(envelope);
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.request.data());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(s.request.size()));
    s.response.clear();
    s.started = clock_type::now();
    curl_multi_add_handle(multi_, s.easy);
  }

  void retry_or_fail(slot& s, char const* why) {
    if (++s.attempts < max_attempts) {
      ++retries_;
      send(s);
      return;
    }
    std::fprintf(stderr, "velt-bench-baseline: user %s failed: %s\n", s.user.c_str(), why);
    ++users_failed_;
    start_user(s);
  }

  void done(slot& s, CURLcode result) {
    if (result != CURLE_OK) return retry_or_fail(s, curl_easy_strerror(result));
    long status = 0;
    curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 429 || status >= 500) return retry_or_fail(s, "HTTP 429/5xx");
    if (status != 200) {
      std::fprintf(stderr, "velt-bench-baseline: user %s failed: HTTP %ld\n", s.user.c_str(), status);
      ++users_failed_;
      return start_user(s);
    }
    latency_.add(clock_type::now() - s.started);
    body_bytes_ += s.response.size();

    boost::system::error_code ec;
    json::value page = json::parse(s.response, ec);
    json::object* result_obj = nullptr;
    json::object* data = nullptr;
    if (!ec && page.is_object()) {
      if (auto* r = page.get_object().if_contains("result"); r && r->is_object()) result_obj = &r->get_object();
    }
    if (result_obj) {
      if (auto* d = result_obj->if_contains("data"); d && d->is_object()) data = &d->get_object();
    }
    if (data == nullptr) return retry_or_fail(s, "malformed page");
    s.attempts = 0;
    ++pages_;
    ++s.pages;
    for (auto& member : *data) {
      if (!member.value().is_array()) continue;
      json::array& from = member.value().get_array();
      json::value& into = s.merged[member.key()];
      if (!into.is_array()) into = json::array();
      json::array& to = into.get_array();
      to.reserve(to.size() + from.size());
      for (auto& item : from) to.push_back(std::move(item));
    }
    std::optional<std::string> next;
    if (auto* t = result_obj->if_contains("nextPageToken"); t && t->is_string() && !t->get_string().empty())
      next = std::string(t->get_string());
    if (next) {
      s.token = std::move(next);
      return send(s);
    }
    finish_user(s);
    start_user(s);
  }

  void finish_user(slot& s) {
    for (char const* f : known_features)
      if (!s.merged.contains(f)) s.merged[f] = json::array();
    json::object file;
    file["organizationId"] = org_;
    file["userId"] = s.user;
    file["exportedAt"] = vb::utc_now();
    file["pages"] = s.pages;
    file["data"] = std::move(s.merged);
    std::string text = json::serialize(file);
    text += '\n';
    vb::write_atomically(out_dir_, vb::file_name(s.user), text);
    s.merged = json::object();
    ++users_ok_;
  }

  std::string base_url_, ca_file_, org_, out_dir_, url_;
  std::vector<std::string> users_;
  std::size_t connections_, concurrency_;
  curl_slist* headers_ = nullptr;
  CURLSH* share_ = nullptr;
  CURLM* multi_ = nullptr;
  std::vector<slot> slots_;
  std::size_t next_user_ = 0;
  std::size_t busy_ = 0;
  std::uint64_t users_ok_ = 0, users_failed_ = 0, pages_ = 0, body_bytes_ = 0, retries_ = 0;
  vb::latencies latency_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    vb::args const a(argc, argv,
                     {"--base-url", "--ca-file", "--org", "--users-file", "--out", "--connections",
                      "--concurrency"});
    curl_global_init(CURL_GLOBAL_DEFAULT);
    vb::summary s;
    {
      exporter e(a);
      s = e.run();
    }
    curl_global_cleanup();
    s.print();
    return s.users_failed == 0 ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "velt-bench-baseline: %s\n", e.what());
    return 2;
  }
}
