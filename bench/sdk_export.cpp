// velt-bench-sdk: the library path `velt-gdpr export` uses, without the CLI around it —
// velt::client page streams (one coroutine per user in flight) feeding velt-gdpr's
// export_writer (the same per-user files), with no journal, report, throttle or progress.
// It exists to give the SDK exporter's request latency (client.stats()) and to show how
// much of (a)'s cost is the CLI's own bookkeeping.
//
//   VELT_API_KEY=... VELT_AUTH_TOKEN=... velt-bench-sdk --base-url URL --ca-file CA
//       --org ORG --users-file FILE --out DIR --connections C [--concurrency N]
//
// Latency percentiles come from velt::client_stats (sending to complete response, upper
// edges of ~9 %-wide buckets). Prints one JSON line at the end (bench_common.hpp).
#include "common/bench_common.hpp"
#include "common/sdk_client.hpp"

#include "core/export_writer.hpp"

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
  std::optional<velt::client> client;
  std::string org;
  std::string out_dir;
  std::vector<std::string> users;
  std::size_t next_user = 0;  // one thread: no lock
  std::uint64_t users_ok = 0, users_failed = 0, pages = 0;
};

asio::awaitable<void> worker(run_state* st) {
  while (st->next_user < st->users.size()) {
    std::string const user = st->users[st->next_user++];
    velt::gdpr::export_writer writer(velt::gdpr::export_paths(st->out_dir), st->org, user);
    velt::user_data_request request;
    request.organization_id = st->org;
    request.user_id = user;
    velt::page_stream pages = st->client->async_fetch_all_user_data(std::move(request), velt::page_format::raw);
    bool failed = false;
    for (;;) {
      auto [ec, page] = co_await pages.async_next(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        std::fprintf(stderr, "velt-bench-sdk: user %s failed: %s\n", user.c_str(),
                     pages.last_error().to_string().c_str());
        failed = true;
        break;
      }
      if (!page) break;
      ++st->pages;
      writer.add_page(std::move(*page));
    }
    if (failed) {
      writer.discard();
      ++st->users_failed;
      continue;
    }
    writer.finish(vb::utc_now());
    ++st->users_ok;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    vb::args const a(argc, argv,
                     {"--base-url", "--ca-file", "--org", "--users-file", "--out", "--connections",
                      "--concurrency"});
    asio::io_context io(1);
    velt::client_options const opts = vb::client_options_from(a);
    std::size_t const concurrency = a.number("--concurrency", opts.max_connections);

    run_state st;
    st.client.emplace(io.get_executor(), opts);
    st.org = a.required("--org");
    st.out_dir = a.required("--out");
    st.users = vb::read_users(a.required("--users-file"));
    ::mkdir(st.out_dir.c_str(), 0700);
    ::mkdir((st.out_dir + "/users").c_str(), 0700);

    auto const started = clock_type::now();
    for (std::size_t i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(&st), asio::detached);
    io.run();

    auto const stats = st.client->stats();
    vb::summary s;
    s.client = "sdk";
    s.users_ok = st.users_ok;
    s.users_failed = st.users_failed;
    s.pages = st.pages;
    s.body_bytes = stats.bytes_received;
    s.retries = stats.retries;
    s.elapsed_s = std::chrono::duration<double>(clock_type::now() - started).count();
    s.p50_us = static_cast<std::uint64_t>(stats.latency_p50.count());
    s.p99_us = static_cast<std::uint64_t>(stats.latency_p99.count());
    s.extra = vb::connection_fields(stats);
    s.print();
    return s.users_failed == 0 ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "velt-bench-sdk: %s\n", e.what());
    return 2;
  }
}
