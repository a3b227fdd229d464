// SPDX-License-Identifier: BSL-1.0
// velt-bench-sdk: the library path `velt-gdpr export` uses, without the CLI around it —
// velt::batch_exporter (the same engine: pacing, slots, a strand per user) feeding
// velt-gdpr's export_writer (the same per-user files), with no journal, report or progress.
// It exists to give the SDK exporter's request latency (client.stats()) and to show how
// much of (a)'s cost is the CLI's own bookkeeping.
//
//   VELT_API_KEY=... VELT_AUTH_TOKEN=... velt-bench-sdk --base-url URL --ca-file CA
//       --org ORG --users-file FILE --out DIR --connections C [--concurrency N] [--gzip on|off]
//
// Latency percentiles come from velt::client_stats (sending to complete response, upper
// edges of ~9 %-wide buckets). Prints one JSON line at the end (bench_common.hpp).
#include "common/bench_common.hpp"
#include "common/sdk_client.hpp"

#include "core/export_writer.hpp"

#include <velt/batch.hpp>
#include <velt/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace vb = velt::bench;
using clock_type = std::chrono::steady_clock;

struct run_state {
  std::string org;
  std::string out_dir;
  std::uint64_t users_ok = 0, users_failed = 0;  // one thread: no lock
};

/// Writes one user's file as the CLI does; a failed user leaves nothing behind.
class file_sink final : public velt::user_sink {
 public:
  file_sink(run_state& st, std::string const& user)
      : st_(st), user_(user), writer_(velt::gdpr::export_paths(st.out_dir), st.org, user) {}
  asio::awaitable<void> async_page(velt::user_data_page page) override {
    writer_.add_page(std::move(page));
    co_return;
  }
  asio::awaitable<void> async_finish(velt::user_outcome const& outcome) override {
    if (outcome.what == velt::user_outcome::state::complete) {
      writer_.finish(vb::utc_now());
      ++st_.users_ok;
    } else {
      std::fprintf(stderr, "velt-bench-sdk: user %s failed: %s\n", user_.c_str(), outcome.error.to_string().c_str());
      writer_.discard();
      ++st_.users_failed;
    }
    co_return;
  }

 private:
  run_state& st_;
  std::string user_;
  velt::gdpr::export_writer writer_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    vb::args const a(argc, argv,
                     {"--base-url", "--ca-file", "--org", "--users-file", "--out", "--connections",
                      "--concurrency", "--gzip"});
    asio::io_context io(1);
    velt::client_options const opts = vb::client_options_from(a);
    std::size_t const concurrency = a.number("--concurrency", opts.max_connections);

    run_state st;
    velt::client client(io.get_executor(), opts);
    st.org = a.required("--org");
    st.out_dir = a.required("--out");
    std::vector<std::string> users = vb::read_users(a.required("--users-file"));
    ::mkdir(st.out_dir.c_str(), 0700);
    ::mkdir((st.out_dir + "/users").c_str(), 0700);

    velt::batch_exporter exporter(client, {.organization_id = st.org, .concurrency = concurrency});
    auto const started = clock_type::now();
    std::optional<velt::batch_result> result;
    exporter.async_run(velt::users_from(std::move(users)),
                       [&st](std::string const& user) { return std::make_unique<file_sink>(st, user); },
                       [&result](boost::system::error_code, velt::batch_result r) { result = std::move(r); });
    io.run();

    auto const stats = client.stats();
    vb::summary s;
    s.client = "sdk";
    s.users_ok = st.users_ok;
    s.users_failed = st.users_failed;
    s.pages = result ? result->stats.pages : 0;
    s.body_bytes = stats.bytes_received;
    s.retries = stats.retries;
    s.elapsed_s = std::chrono::duration<double>(clock_type::now() - started).count();
    s.p50_us = static_cast<std::uint64_t>(stats.latency_p50.count());
    s.p99_us = static_cast<std::uint64_t>(stats.latency_p99.count());
    s.extra = vb::connection_fields(stats) + ",\"bytes_inflated\":" + std::to_string(stats.bytes_inflated);
    s.print();
    return s.users_failed == 0 ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "velt-bench-sdk: %s\n", e.what());
    return 2;
  }
}
