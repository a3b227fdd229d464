// SPDX-License-Identifier: BSL-1.0
// The hostile-server matrix: every fault the local server can inject × {first, middle, last
// page} × {one connection, eight connections with several users in parallel} ends in either
// an exact export or a typed error: never a crash, a hang past the deadline, a duplicated
// or missing item. Across the whole matrix no error message, retry event or log line
// carries the API key or the auth token.
//
// test/client/client_faults_test.cpp covers first/last page on one connection with one user;
// this adds the middle page, the shared pool under parallel users, exact page counts and
// the prefix property of failed streams.
#include "hardening_support.hpp"
#include "mock/compression.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <mutex>
#include <thread>

namespace velt::hardening {
namespace {

constexpr char const* kApiKey = "matrix-KEY-Zx81qW5e";
constexpr char const* kToken = "matrix-TOKEN-Pf27mB9k";

enum class where { first, middle, last };
enum class pool { one, many };

char const* name_of(where w) {
  return w == where::first ? "first" : w == where::middle ? "middle" : "last";
}

// The fault kinds the client cannot recover from, and the error each must end in: everything
// else must export exactly. (A bomb is over the matrix's 1 MiB body limit once inflated.)
std::optional<errc> final_error(mock::fault_kind k) {
  switch (k) {
    case mock::fault_kind::oversized_headers:
    case mock::fault_kind::gzip_bomb: return errc::response_too_large;
    case mock::fault_kind::unsupported_encoding: return errc::unsupported_content_coding;
    default: return std::nullopt;
  }
}
bool recovers(mock::fault_kind k) { return !final_error(k); }

mock::server_options matrix_data(std::size_t users) {
  mock::server_options o;
  o.api_key = kApiKey;
  o.auth_token = kToken;
  o.data.users = users;
  o.data.page_size = 10;  // small pages keep the matrix fast; every user has >= 3 of them
  o.data.min_items = 21;
  o.data.max_items = 45;
  o.data.empty_user_fraction = 0;
  o.data.heavy_users = 0;
  o.data.extra_feature = true;
  o.threads = 2;
  return o;
}

std::size_t page_at(where w, std::size_t pages) {
  switch (w) {
    case where::first: return 0;
    case where::middle: return pages / 2;
    case where::last: return pages - 1;
  }
  return 0;
}

mock::fault make_fault(mock::fault_kind kind, std::string const& user, std::size_t page) {
  mock::fault f{.kind = kind, .user_id = user, .page_index = page, .max_times = 1};
  f.retry_after = "1";  // clamped by the client's max_retry_after
  f.latency = kind == mock::fault_kind::slow_drip ? 2ms : 30ms;
  f.drip_bytes = 512;
  f.http_status = 502;
  f.header_bytes = 100 * 1024;  // over the 64 KiB default limit
  return f;
}

/// Everything the client said, from every thread.
struct transcript {
  std::mutex mutex;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard lock(mutex);
    lines.push_back(std::move(s));
  }
};

using matrix_param = std::tuple<mock::fault_kind, where, pool>;

class HardeningHostileMatrix : public ::testing::TestWithParam<matrix_param> {};

TEST_P(HardeningHostileMatrix, ExactExportOrTypedError) {
  auto const [kind, at, mode] = GetParam();
  std::size_t const users = mode == pool::one ? 2 : 6;
  mock::server srv(matrix_data(users));
  auto const ids = srv.user_ids();
  ASSERT_EQ(ids.size(), users);

  // One fault per faulted user at the chosen page. With one connection, the first user
  // runs cleanly first so that the fault also meets a reused keep-alive connection.
  std::vector<std::string> faulted;
  for (std::size_t i = mode == pool::one ? 1 : 0; i < users; ++i) faulted.push_back(ids[i]);
  std::map<std::string, std::size_t> fault_page;
  for (auto const& u : faulted) {
    std::size_t const pages = srv.expected_pages(u);
    ASSERT_GE(pages, 3u) << u;
    fault_page[u] = page_at(at, pages);
    srv.add_fault(make_fault(kind, u, fault_page[u]));
  }

  auto said = std::make_shared<transcript>();
  client_options o;
  o.base_url = srv.url();
  o.api_key = kApiKey;
  o.auth_token = kToken;
  o.ca_file = srv.ca_file().string();
  o.max_connections = mode == pool::one ? 1 : 8;
  o.stream_deadline = 20s;
  o.limits.max_body_bytes = 1u << 20;
  o.timeouts.request = 10s;
  o.timeouts.idle_read = 5s;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 10ms;
  o.retry.max_retry_after = 20ms;
  o.log = [said](log_level, std::string_view l) { said->add(std::string(l)); };
  o.on_retry = [said](retry_event const& e) {
    said->add(e.error.to_string());
    said->add(e.error.code.message());
  };

  asio::io_context io;
  velt::client c(io.get_executor(), o);
  std::vector<std::optional<stream_outcome>> outcomes(users);
  auto start = [&](std::size_t i) {
    asio::co_spawn(io, drain_stream(c, srv.organization_id(), ids[i]),
                   [&outcomes, i](std::exception_ptr e, stream_outcome r) {
                     if (e) std::rethrow_exception(e);
                     outcomes[i] = std::move(r);
                   });
  };
  auto const started = std::chrono::steady_clock::now();
  if (mode == pool::one) {
    for (std::size_t i = 0; i < users; ++i) {  // one after the other, one connection
      start(i);
      io.restart();
      io.run_for(30s);
    }
  } else {
    for (std::size_t i = 0; i < users; ++i) start(i);
    io.restart();
    std::thread helper([&io] { io.run_for(30s); });  // two threads share the pool
    io.run_for(30s);
    helper.join();
  }
  auto const elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, 25s) << "ran past the stream deadline";

  for (std::size_t i = 0; i < users; ++i) {
    auto const& u = ids[i];
    ASSERT_TRUE(outcomes[i].has_value()) << u << ": did not finish (hang)";
    auto const& r = *outcomes[i];
    auto const expected = srv.expected_export(u);
    bool const is_faulted = fault_page.count(u) != 0;
    EXPECT_TRUE(r.indices_in_order) << u;
    if (!is_faulted || recovers(kind)) {
      EXPECT_FALSE(r.ec) << u << ": " << r.error.to_string();
      EXPECT_TRUE(same_export(expected, r.data)) << u;
      EXPECT_EQ(r.pages, srv.expected_pages(u)) << u;
    } else {
      // A typed error at the faulted page, after exactly the pages before it.
      EXPECT_EQ(r.ec, make_error_code(*final_error(kind))) << u << ": " << r.error.to_string();
      EXPECT_NE(r.error.status, status::ok);
      EXPECT_FALSE(r.error.message.empty());
      EXPECT_EQ(r.pages, fault_page[u]) << u;
      EXPECT_TRUE(is_prefix_export(expected, r.data)) << u;
    }
    if (r.ec) {
      said->add(r.error.message);
      said->add(r.error.to_string());
      said->add(velt::error(r.error).what());
    }
  }
  EXPECT_EQ(srv.stats().faults_injected, faulted.size()) << "every scripted fault fired once";

  std::lock_guard lock(said->mutex);
  for (auto const& line : said->lines) {
    EXPECT_EQ(line.find(kApiKey), std::string::npos) << line;
    EXPECT_EQ(line.find(kToken), std::string::npos) << line;
  }
}

std::string matrix_name(::testing::TestParamInfo<matrix_param> const& info) {
  auto const [kind, at, mode] = info.param;
  return std::string(mock::to_string(kind)) + "_" + name_of(at) + "_page_" +
         (mode == pool::one ? "one_connection" : "eight_connections");
}

INSTANTIATE_TEST_SUITE_P(
    AllFaults, HardeningHostileMatrix,
    ::testing::Combine(
        ::testing::Values(mock::fault_kind::latency, mock::fault_kind::throttle_429,
                          mock::fault_kind::http_error_json, mock::fault_kind::http_error_html,
                          mock::fault_kind::resource_exhausted, mock::fault_kind::unavailable,
                          mock::fault_kind::close_before_response,
                          mock::fault_kind::reset_mid_body, mock::fault_kind::truncated_body,
                          mock::fault_kind::malformed_json, mock::fault_kind::slow_drip,
                          mock::fault_kind::connection_close, mock::fault_kind::chunked,
                          mock::fault_kind::oversized_headers, mock::fault_kind::gzip_bomb,
                          mock::fault_kind::gzip_corrupt, mock::fault_kind::gzip_truncated,
                          mock::fault_kind::unsupported_encoding),
        ::testing::Values(where::first, where::middle, where::last),
        ::testing::Values(pool::one, pool::many)),
    matrix_name);

TEST(HardeningHostileMatrix, EveryFaultKindIsInTheMatrix) {
  // A new fault kind added to velt::mock must be added above: this fails until it is.
  int covered = 0;
  for (int k = 0; k < 64; ++k) {
    auto const name = mock::to_string(static_cast<mock::fault_kind>(k));
    if (!mock::fault_kind_from_string(name)) break;
    ++covered;
  }
  EXPECT_EQ(covered, 18);
}

TEST(HardeningHostileMatrix, EveryFaultAtOnceOnManyUsersStillEndsCleanly) {
  // All kinds at random (p = 0.15) on every request of ten users sharing four connections:
  // each user ends exact or with a typed error; no hang, no duplicate, no secret.
  auto so = matrix_data(10);
  so.data.seed = 7;
  mock::server srv(so);
  for (int k = 1; k < 18; ++k) {
    mock::fault f = make_fault(static_cast<mock::fault_kind>(k), "", 0);
    f.user_id.reset();
    f.page_index.reset();
    f.max_times.reset();
    f.probability = 0.15 / 17 * 3;
    srv.add_fault(f);
  }
  auto said = std::make_shared<transcript>();
  client_options o;
  o.base_url = srv.url();
  o.api_key = kApiKey;
  o.auth_token = kToken;
  o.ca_file = srv.ca_file().string();
  o.max_connections = 4;
  o.stream_deadline = 20s;
  o.retry.max_attempts = 8;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 10ms;
  o.retry.max_retry_after = 20ms;
  o.retry.budget_max_tokens = 0;  // measure the faults, not the budget
  o.log = [said](log_level, std::string_view l) { said->add(std::string(l)); };
  asio::io_context io;
  velt::client c(io.get_executor(), o);
  auto const ids = srv.user_ids();
  std::vector<std::optional<stream_outcome>> outcomes(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    asio::co_spawn(io, drain_stream(c, srv.organization_id(), ids[i]),
                   [&outcomes, i](std::exception_ptr e, stream_outcome r) {
                     if (e) std::rethrow_exception(e);
                     outcomes[i] = std::move(r);
                   });
  std::thread helper([&io] { io.run_for(30s); });
  io.run_for(30s);
  helper.join();
  std::size_t exact = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(outcomes[i]) << ids[i] << " did not finish";
    auto const& r = *outcomes[i];
    EXPECT_TRUE(r.indices_in_order);
    if (!r.ec) {
      EXPECT_TRUE(same_export(srv.expected_export(ids[i]), r.data)) << ids[i];
      ++exact;
    } else {
      EXPECT_NE(r.error.status, status::ok);
      EXPECT_TRUE(is_prefix_export(srv.expected_export(ids[i]), r.data)) << ids[i];
      said->add(r.error.to_string());
    }
  }
  auto const st = srv.stats();
  std::printf("[ matrix   ] random faults: %llu injected over %llu requests; %zu of %zu users exact\n",
              static_cast<unsigned long long>(st.faults_injected),
              static_cast<unsigned long long>(st.requests), exact, ids.size());
  EXPECT_GT(st.faults_injected, 0u);
  EXPECT_GT(exact, 0u);
  for (auto const& line : said->lines) {
    EXPECT_EQ(line.find(kApiKey), std::string::npos) << line;
    EXPECT_EQ(line.find(kToken), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace velt::hardening

namespace velt::hardening {
namespace {

TEST(HardeningContract, MergedFetchSkipsATokenInsideData) {
  // The decoder keeps a string "nextPageToken" inside data as data (it is not a feature,
  // and only result.nextPageToken pages); the merged fetch must not take it for an array.
  raw_http_server srv([](raw_request const&) {
    return http_response(200, R"({"result":{"status":"success","data":{"comments":[{"commentId":1}],)"
                              R"("nextPageToken":"inner","reactions":[]}}})");
  });
  asio::io_context io;
  velt::client c(io.get_executor(), plain_options(srv.url()));
  user_data_request request{.organization_id = "org-1", .user_id = "user-1"};
  auto [ec, d] = run(io, c.async_fetch_user_data(std::move(request), asio::as_tuple(asio::use_awaitable)));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(d.pages, 1u);
  EXPECT_FALSE(d.data.contains("nextPageToken"));
  ASSERT_TRUE(d.data.contains("comments"));
  EXPECT_EQ(d.data.at("comments").as_array().size(), 1u);
  // The request asks for gzip by default (client_options::accept_gzip).
  ASSERT_EQ(srv.requests(), 1u);
  EXPECT_EQ(srv.received()[0].header("accept-encoding"), "gzip");
}

TEST(HardeningContract, AcceptEncodingFollowsTheOptionAndAnUnaskedGzipBodyIsDecoded) {
  // A server that compresses whatever the request says (some gateways do).
  raw_http_server srv([](raw_request const&) {
    return http_response(200, velt::mock::detail::gzip_compress(one_page_body()),
                         "Content-Encoding: x-gzip\r\n");
  });
  for (bool accept_gzip : {true, false}) {
    asio::io_context io;
    auto o = plain_options(srv.url());
    o.accept_gzip = accept_gzip;
    velt::client c(io.get_executor(), o);
    user_data_request request{.organization_id = "org-1", .user_id = "user-1"};
    auto [ec, d] = run(io, c.async_fetch_user_data(std::move(request), asio::as_tuple(asio::use_awaitable)));
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(d.data.at("comments").as_array().size(), 1u);
    EXPECT_EQ(srv.received().back().header("accept-encoding"), accept_gzip ? "gzip" : "identity");
    EXPECT_EQ(c.stats().responses_inflated, 1u);
    EXPECT_EQ(c.stats().bytes_inflated, one_page_body().size());
  }
}

TEST(HardeningContract, PageTokensThatCycleAreATypedErrorNotALoop) {
  // Tokens A -> B -> A: each differs from the one just sent, but following them would
  // never end.
  raw_http_server srv([](raw_request const& r) {
    std::string next = "A";
    if (r.body.find(R"("pageToken":"A")") != std::string::npos) next = "B";
    return http_response(200, R"({"result":{"status":"success","data":{"comments":[{"commentId":1}]},)"
                              R"("nextPageToken":")" + next + R"("}})");
  });
  auto const got = fetch_once(plain_options(srv.url()));
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response)) << got.error.to_string();
  EXPECT_NE(got.error.message.find("already given"), std::string::npos) << got.error.message;
  EXPECT_EQ(got.pages, 2u);  // A's and B's pages were delivered; the third would loop
  EXPECT_EQ(srv.requests(), 3u);
}

TEST(HardeningContract, InvalidArgumentAtHttp500IsNotRetried) {
  // "Decide from status first": an error envelope saying INVALID_ARGUMENT is final even
  // when the HTTP status (and the envelope's own code) say 500.
  raw_http_server srv([](raw_request const&) {
    return http_response(500, R"({"error":{"message":"Invalid page token","status":"INVALID_ARGUMENT","code":500}})");
  });
  auto const got = fetch_once(plain_options(srv.url()));
  EXPECT_EQ(got.error.status, status::invalid_argument) << got.error.to_string();
  EXPECT_EQ(got.error.http_status, 500u);
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningContract, NullFeaturesAreEmptyOnesInBothFormats) {
  raw_http_server srv([](raw_request const&) {
    return http_response(200, R"({"result":{"status":"success","data":{"comments":[{"commentId":1}],)"
                              R"("reactions":null,"recordings":null}}})");
  });
  for (page_format f : {page_format::parsed, page_format::raw}) {
    asio::io_context io;
    velt::client c(io.get_executor(), plain_options(srv.url()));
    user_data_request request{.organization_id = "org-1", .user_id = "user-1"};
    page_stream pages = c.async_fetch_all_user_data(std::move(request), f);
    auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
    ASSERT_FALSE(ec) << pages.last_error().to_string();
    ASSERT_TRUE(page);
    EXPECT_EQ(page->item_count(), 1u);
    EXPECT_TRUE(page->is_last());
  }
  asio::io_context io;
  velt::client c(io.get_executor(), plain_options(srv.url()));
  user_data_request request{.organization_id = "org-1", .user_id = "user-1"};
  auto [ec, d] = run(io, c.async_fetch_user_data(std::move(request), asio::as_tuple(asio::use_awaitable)));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(d.data.at("reactions"), boost::json::array());  // known features: always arrays
  EXPECT_EQ(d.data.at("comments").as_array().size(), 1u);
}

}  // namespace
}  // namespace velt::hardening
