// SPDX-License-Identifier: BSL-1.0
#include "runner/stats_poller.hpp"

#include "runner/mock_process.hpp"

#include <boost/json/parse.hpp>

#include <curl/curl.h>

#include <cmath>
#include <stdexcept>

namespace velt::bench {

namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

/// The pages served at time t (linear between the samples around it); NaN outside them.
double pages_at(std::vector<stats_sample> const& s, double t) {
  if (s.empty() || t < s.front().t_s || t > s.back().t_s) return NAN;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (t > s[i].t_s) continue;
    double const span = s[i].t_s - s[i - 1].t_s;
    double const f = span > 0 ? (t - s[i - 1].t_s) / span : 1.0;
    return static_cast<double>(s[i - 1].pages_served) +
           f * (static_cast<double>(s[i].pages_served) - static_cast<double>(s[i - 1].pages_served));
  }
  return static_cast<double>(s.back().pages_served);
}

}  // namespace

stats_poller::stats_poller(std::string url, std::string ca_file, std::chrono::milliseconds interval,
                           std::chrono::steady_clock::time_point origin)
    : stats_url_(std::move(url) + "/_mock/stats"), ca_file_(std::move(ca_file)), interval_(interval),
      origin_(origin) {
  easy_ = curl_easy_init();
  if (easy_ == nullptr) throw std::runtime_error("curl_easy_init failed");
  auto first = sample();  // opens the connection the thread keeps using
  if (!first) {
    curl_easy_cleanup(static_cast<CURL*>(easy_));
    throw std::runtime_error("GET /_mock/stats: no answer");
  }
  samples_.push_back(*first);
  thread_ = std::thread([this] { loop(); });
}

stats_poller::~stats_poller() {
  if (thread_.joinable()) (void)stop();
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

std::optional<stats_sample> stats_poller::sample() {
  auto* easy = static_cast<CURL*>(easy_);
  std::string body;
  curl_easy_setopt(easy, CURLOPT_URL, stats_url_.c_str());
  curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  CURLcode const rc = curl_easy_perform(easy);
  // Stamped when the answer is in: the counters are read at most one round trip earlier.
  double const t = std::chrono::duration<double>(std::chrono::steady_clock::now() - origin_).count();
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK || status != 200) {
    ++failures_;
    return std::nullopt;
  }
  try {
    auto const o = boost::json::parse(body).as_object();
    stats_sample s;
    s.t_s = t;
    s.requests = counter(o, "requests");
    s.pages_served = counter(o, "pages_served");
    s.refused_rate = counter(o, "refused_rate");
    s.refused_quota = counter(o, "refused_quota");
    s.refused_concurrency = counter(o, "refused_concurrency");
    s.refused_outage = counter(o, "refused_outage");
    return s;
  } catch (std::exception const&) {
    ++failures_;
    return std::nullopt;
  }
}

void stats_poller::loop() {
  auto next = std::chrono::steady_clock::now() + interval_;
  while (!stopping_.load()) {
    std::this_thread::sleep_until(next);
    next += interval_;
    if (stopping_.load()) break;
    if (auto s = sample()) {
      std::lock_guard lock(mutex_);
      samples_.push_back(*s);
    }
  }
}

std::vector<stats_sample> stats_poller::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (auto s = sample()) samples_.push_back(*s);
  std::lock_guard lock(mutex_);
  return samples_;
}

double pages_per_s_between(std::vector<stats_sample> const& samples, double from_s, double to_s) {
  if (!(to_s > from_s)) return NAN;
  return (pages_at(samples, to_s) - pages_at(samples, from_s)) / (to_s - from_s);
}

}  // namespace velt::bench
