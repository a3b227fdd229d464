// SPDX-License-Identifier: BSL-1.0
// velt-mock-server's counters over time. The server reports totals only (GET /_mock/stats),
// not per-second counts, so a thread asks for them every `interval` while a client runs, on
// one kept-alive connection opened before the client starts. That connection keeps working
// through an outage: the server refuses new connections and API requests then, never the
// /_mock/stats route of an open connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace velt::bench {

/// The server's totals at one moment.
struct stats_sample {
  double t_s = 0;  ///< since the poller's origin
  std::uint64_t requests = 0, pages_served = 0;
  std::uint64_t refused_rate = 0, refused_quota = 0, refused_concurrency = 0, refused_outage = 0;
};

class stats_poller {
 public:
  /// Takes a first sample (throws when the server does not answer it), then samples every
  /// `interval` until stop(). Times count from `origin`.
  stats_poller(std::string url, std::string ca_file, std::chrono::milliseconds interval,
               std::chrono::steady_clock::time_point origin);
  ~stats_poller();
  stats_poller(stats_poller const&) = delete;
  stats_poller& operator=(stats_poller const&) = delete;

  /// Takes a last sample and stops the thread; returns every sample, in time order.
  std::vector<stats_sample> stop();
  /// Samples the server did not answer (0 when the connection held).
  std::uint64_t failures() const { return failures_.load(); }

 private:
  std::optional<stats_sample> sample();
  void loop();

  std::string stats_url_, ca_file_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point origin_;
  void* easy_ = nullptr;  // CURL*, used by one thread at a time
  std::mutex mutex_;
  std::vector<stats_sample> samples_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> failures_{0};
  std::thread thread_;
};

/// Pages served per second over [from_s, to_s), from the samples' totals (linear between
/// samples); NaN when the samples do not cover the span.
double pages_per_s_between(std::vector<stats_sample> const& samples, double from_s, double to_s);

}  // namespace velt::bench
