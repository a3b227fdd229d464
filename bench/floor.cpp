// SPDX-License-Identifier: BSL-1.0
// velt-bench-floor: the transport floor — the SDK's own request path (velt::detail::
// client_impl::call: request building, the retry loop, the connection pool, TLS, Beast's
// HTTP parser) fetching the same pages as the exporters, with no JSON work and no files.
//
//   VELT_API_KEY=... VELT_AUTH_TOKEN=... velt-bench-floor --base-url URL --ca-file CA
//       --org ORG --users-file FILE --connections C [--concurrency N]
//
// The request body is encoded with velt::wire::encode (as the SDK does). The response is
// not parsed: the next page token is found with a cheap search for the last
// `"nextPageToken":` in the body (the local server writes it after `data`, and tokens
// contain no escapes), so the floor follows the same token chains as the real clients.
// Only the HTTP status is checked (a non-200 answer goes through velt::wire::decode_error,
// i.e. is retried like in the SDK). This is the floor the SDK exporter can approach:
// everything it does on top (JSON parsing and the export files) is the difference.
//
// Latency: from calling `call` to having the whole body (no queueing: as many workers as
// connections by default). Prints one JSON line at the end (bench_common.hpp).
#include "common/bench_common.hpp"
#include "common/sdk_client.hpp"

#include "client/client_impl.hpp"

#include <velt/wire.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace vb = velt::bench;
using clock_type = std::chrono::steady_clock;

struct page_meta {
  std::optional<std::string> next_token;
  std::size_t body_bytes = 0;
};

/// The token after the last `"nextPageToken":` of the body; nullopt for null, "" or none.
std::optional<std::string> find_next_token(std::string_view body) {
  constexpr std::string_view key = "\"nextPageToken\"";
  auto const at = body.rfind(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + key.size();
  while (i < body.size() && (body[i] == ' ' || body[i] == ':')) ++i;
  if (i >= body.size() || body[i] != '"') return std::nullopt;  // null
  auto const end = body.find('"', i + 1);
  if (end == std::string_view::npos || end == i + 1) return std::nullopt;
  return std::string(body.substr(i + 1, end - i - 1));
}

velt::result<page_meta> decode_cheaply(velt::wire::http_response_view const& v,
                                       velt::wire::decode_limits const& limits) {
  if (v.status != 200) return velt::wire::decode_error(v, limits);
  page_meta m;
  m.next_token = find_next_token(v.body);
  m.body_bytes = v.body.size();
  return m;
}

struct run_state {
  std::shared_ptr<velt::detail::client_impl> client;
  std::string org;
  std::vector<std::string> users;
  std::size_t next_user = 0;  // one thread: no lock
  std::uint64_t users_ok = 0, users_failed = 0, pages = 0, bytes = 0;
  vb::latencies latency;
};

asio::awaitable<void> worker(run_state* st) {
  while (st->next_user < st->users.size()) {
    std::string const user = st->users[st->next_user++];
    std::optional<std::string> token;
    bool failed = false;
    for (;;) {
      velt::user_data_request request;
      request.organization_id = st->org;
      request.user_id = user;
      request.page_token = token;
      std::string body = velt::wire::encode(request);
      auto const started = clock_type::now();
      std::optional<velt::detail::clock_type::time_point> const no_deadline;
      auto call = st->client->call<page_meta>(velt::wire::endpoint::get_user_data, std::move(body),
                                              decode_cheaply, /*idempotent=*/true, no_deadline);
      velt::result<page_meta> r = co_await std::move(call);
      if (!r) {
        std::fprintf(stderr, "velt-bench-floor: user %s failed: %s\n", user.c_str(),
                     r.error().to_string().c_str());
        failed = true;
        break;
      }
      st->latency.add(clock_type::now() - started);
      ++st->pages;
      st->bytes += r->body_bytes;
      if (!r->next_token) break;
      token = std::move(r->next_token);
    }
    ++(failed ? st->users_failed : st->users_ok);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    vb::args const a(argc, argv,
                     {"--base-url", "--ca-file", "--org", "--users-file", "--connections", "--concurrency",
                      "--out"});
    asio::io_context io(1);
    velt::client_options const opts = vb::client_options_from(a);
    std::size_t const concurrency = a.number("--concurrency", opts.max_connections);

    run_state st;
    st.client = std::make_shared<velt::detail::client_impl>(io.get_executor(), opts);
    st.org = a.required("--org");
    st.users = vb::read_users(a.required("--users-file"));

    auto const started = clock_type::now();
    for (std::size_t i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(&st), asio::detached);
    io.run();

    auto const stats = st.client->counters().snapshot();
    vb::summary s;
    s.client = "floor";
    s.users_ok = st.users_ok;
    s.users_failed = st.users_failed;
    s.pages = st.pages;
    s.body_bytes = st.bytes;
    s.retries = stats.retries;
    s.elapsed_s = std::chrono::duration<double>(clock_type::now() - started).count();
    s.p50_us = st.latency.percentile(50);
    s.p99_us = st.latency.percentile(99);
    s.extra = vb::connection_fields(stats);
    s.print();
    return s.users_failed == 0 ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "velt-bench-floor: %s\n", e.what());
    return 2;
  }
}
