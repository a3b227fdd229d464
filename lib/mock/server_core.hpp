// SPDX-License-Identifier: BSL-1.0
// The state one server shares between its acceptor and its connections. Every member is
// thread-safe (immutable, atomic, or guarded inside its own class).
#pragma once

#include "api_handler.hpp"
#include "compression.hpp"
#include "data_set.hpp"
#include "delete_jobs.hpp"
#include "fault_plan.hpp"
#include "limits.hpp"
#include "media_files.hpp"
#include "page_cache.hpp"
#include "page_token.hpp"
#include "request_recorder.hpp"
#include "stats.hpp"

#include <velt/mock/options.hpp>

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace velt::mock::detail {

struct server_core {
  /// `origin` ("https://127.0.0.1:PORT"): the server's own, for the media users' URLs.
  server_core(server_options o, std::string origin);

  server_options const opts;
  std::string const origin;  ///< "https://127.0.0.1:PORT"
  data_set const data;
  page_token_signer const signer;
  page_cache pages;
  gzip_cache gzipped_pages{opts.page_cache_bytes};  ///< with opts.gzip
  delete_registry jobs;
  api_handler handler;
  fault_plan faults;
  stats_registry stats;
  request_recorder recorder{opts.recorded_requests};
  media_state media{1000};  ///< the last 1000 media requests, the 500-then-ok targets seen
  std::optional<boost::asio::ssl::context> tls;  ///< set when opts.tls
  std::atomic<std::uint64_t> request_counter{0};
  std::atomic<bool> stopping{false};
  steady_time const started = std::chrono::steady_clock::now();  ///< limits count time from here
  limiter limits;

  /// Passes a line to opts.logger, if any.
  void log(std::string_view line) const {
    if (opts.logger) opts.logger(line);
  }
};

/// The token secret of a server: opts.token_secret, or one derived from the data seed.
std::string token_secret_for(server_options const& o);

}  // namespace velt::mock::detail
