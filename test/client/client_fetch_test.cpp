// SPDX-License-Identifier: BSL-1.0
// Fetching user data end to end over TLS against the in-process mock server.
#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace velt::test {
namespace {
namespace asio = boost::asio;

mock::server_options small_data(std::size_t users = 12) {
  mock::server_options o;
  o.data.users = users;
  o.data.max_items = 230;
  o.data.heavy_users = 1;
  o.data.heavy_items = 450;
  o.data.extra_feature = true;
  return o;
}

TEST(ClientFetch, StreamsEveryUserExactlyPageByPage) {
  mock::server srv(small_data());
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::size_t multi_page_users = 0;
  for (auto const& user : srv.user_ids()) {
    auto got = run(io, stream_user(c, srv.organization_id(), user));
    EXPECT_TRUE(same_export(expected(srv, user), got.data)) << user;
    EXPECT_EQ(got.pages, srv.expected_pages(user)) << user;
    EXPECT_TRUE(got.indices_in_order) << user;
    if (got.pages > 1) ++multi_page_users;
    // Every page requested exactly once: nothing skipped, nothing repeated.
    auto const st = srv.stats();
    for (std::size_t p = 0; p < got.pages; ++p) EXPECT_EQ(st.requests_for(user, p), 1u) << user;
  }
  EXPECT_GT(multi_page_users, 2u);
  auto const stats = c.stats();
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_GT(stats.connections_reused, 0u);
  EXPECT_EQ(stats.connections_opened, 1u);  // one user at a time: one kept-alive connection
}

TEST(ClientFetch, RawFormatGivesTheSameItemsAsText) {
  mock::server srv(small_data());
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  std::size_t multi_page_users = 0;
  for (auto const& user : srv.user_ids()) {
    auto got = run(io, stream_user(c, srv.organization_id(), user, page_format::raw));
    EXPECT_TRUE(same_export(expected(srv, user), got.data)) << user;
    EXPECT_EQ(got.pages, srv.expected_pages(user)) << user;
    EXPECT_TRUE(got.indices_in_order) << user;
    if (got.pages > 1) ++multi_page_users;
  }
  EXPECT_GT(multi_page_users, 2u);
  // A raw page owns its text: it outlives the stream, the client and the server.
  std::optional<user_data_page> kept;
  {
    page_stream s = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}},
                                                page_format::raw);
    kept = run(io, s.async_next(asio::use_awaitable));
  }
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->format(), page_format::raw);
  EXPECT_TRUE(kept->data().empty());
  for (auto const& f : kept->raw_features())
    for (std::string_view item : f.items) EXPECT_TRUE(wire::parse_json(item)) << item;
}

// The thread each co_await of a stream resumed on (one per page, and one for the end).
asio::awaitable<std::vector<std::thread::id>> pages_and_threads(velt::client c, std::string org,
                                                                std::string user) {
  std::vector<std::thread::id> out;
  user_data_request request{.organization_id = std::move(org), .user_id = std::move(user)};
  page_stream s = c.async_fetch_all_user_data(std::move(request));
  for (;;) {
    auto page = co_await s.async_next(asio::use_awaitable);
    out.push_back(std::this_thread::get_id());
    if (!page) break;
  }
  co_return out;
}

TEST(ClientFetch, DecodeExecutorDecodesElsewhereAndGivesTheSameResults) {
  mock::server srv(small_data());
  // The decode executor: an io_context on a thread of its own; run() returns how many
  // handlers it ran, i.e. how many bodies were decoded there.
  asio::io_context decoder;
  auto guard = asio::make_work_guard(decoder);
  std::size_t decoded_there = 0;
  std::thread decode_thread([&] { decoded_there = decoder.run(); });

  asio::io_context io;
  client_options o = options_for(srv);
  o.decode_executor = decoder.get_executor();
  o.decode_elsewhere_min_bytes = 1;  // every body, small pages and error answers included
  velt::client c(io.get_executor(), o);
  std::size_t pages = 0;
  for (auto const& user : srv.user_ids()) {
    for (page_format f : {page_format::parsed, page_format::raw}) {
      auto got = run(io, stream_user(c, srv.organization_id(), user, f));
      EXPECT_TRUE(same_export(expected(srv, user), got.data)) << user;
      EXPECT_EQ(got.pages, srv.expected_pages(user)) << user;
      EXPECT_TRUE(got.indices_in_order) << user;
      pages += got.pages;
    }
  }
  // The consumer is resumed on the client's executor (this thread runs `io`), never on
  // the decode thread.
  auto const resumed = run(io, pages_and_threads(c, srv.organization_id(), srv.user_ids()[0]));
  EXPECT_GT(resumed.size(), 1u);
  for (auto const& id : resumed) EXPECT_EQ(id, std::this_thread::get_id());
  pages += resumed.size() - 1;
  // An error answer decoded there is the same typed error.
  velt::client refused(io.get_executor(), [&] {
    client_options bad = o;
    bad.api_key = "not-the-key";
    bad.retry.max_attempts = 1;
    return bad;
  }());
  page_stream denied = refused.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto [ec, page] = run(io, denied.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(page);
  EXPECT_EQ(denied.last_error().status, status::permission_denied) << denied.last_error().to_string();

  guard.reset();
  decode_thread.join();
  EXPECT_EQ(decoded_there, pages + 1);  // every page, and the error answer

  client_options empty = options_for(srv);
  empty.decode_executor.emplace();  // set, but holding no executor
  EXPECT_THROW(velt::client(io.get_executor(), empty), velt::error);
}

asio::awaitable<user_data> merged(velt::client c, std::string org, std::string user) {
  // Named before co_await: g++ 12 destroys aggregate temporaries of a co_await twice.
  user_data_request request{.organization_id = org, .user_id = user};
  co_return co_await c.async_fetch_user_data(std::move(request), asio::use_awaitable);
}

TEST(ClientFetch, MergedFetchMatchesGroundTruthAndKeepsUnknownFeatures) {
  mock::server srv(small_data(6));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  bool saw_extra = false;
  for (auto const& user : srv.user_ids()) {
    user_data d = run(io, merged(c, srv.organization_id(), user));
    EXPECT_EQ(d.user_id, user);
    EXPECT_EQ(d.pages, srv.expected_pages(user));
    for (char const* f : known_features) EXPECT_TRUE(d.data.contains(f)) << f;
    EXPECT_TRUE(same_export(expected(srv, user), d.data)) << user;
    if (d.data.contains("userProfiles")) saw_extra = true;
  }
  EXPECT_TRUE(saw_extra) << "the undocumented feature must be kept";
}

TEST(ClientFetch, EveryCompletionTokenStyleWorks) {
  mock::server srv(small_data(3));
  auto const user = srv.user_ids().front();
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));

  // Callback.
  page_stream s1 = c.async_fetch_all_user_data({srv.organization_id(), user, {}});
  boost::system::error_code cb_ec = asio::error::would_block;
  std::optional<user_data_page> cb_page;
  s1.async_next([&](boost::system::error_code ec, std::optional<user_data_page> p) {
    cb_ec = ec;
    cb_page = std::move(p);
  });
  io.run_for(10s);
  EXPECT_FALSE(cb_ec);
  ASSERT_TRUE(cb_page.has_value());
  EXPECT_EQ(cb_page->index(), 0u);

  // Future, with the loop on another thread.
  io.restart();
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  page_stream s2 = c.async_fetch_all_user_data({srv.organization_id(), user, {}});
  std::future<std::optional<user_data_page>> fut = s2.async_next(asio::use_future);
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(fut.get()->index(), 0u);
  std::future<delete_status> bad =
      c.async_get_delete_user_data_status({.job_id = ""}, asio::use_future);
  ASSERT_EQ(bad.wait_for(10s), std::future_status::ready);
  try {
    bad.get();
    ADD_FAILURE() << "an empty job id must fail";
  } catch (boost::system::system_error const& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_request));
  }
  guard.reset();
  runner.join();

  // Deferred and as_tuple.
  page_stream s3 = c.async_fetch_all_user_data({srv.organization_id(), user, {}});
  auto op = s3.async_next(asio::deferred);
  bool called = false;
  std::move(op)([&](boost::system::error_code ec, std::optional<user_data_page> p) {
    called = true;
    EXPECT_FALSE(ec);
    EXPECT_TRUE(p.has_value());
  });
  io.restart();
  io.run_for(10s);
  EXPECT_TRUE(called);
}

asio::awaitable<std::string> expect_throw_next(velt::client c, std::string org,
                                               std::string user) {
  page_stream pages = c.async_fetch_all_user_data({org, user, {}});
  try {
    co_await pages.async_next(asio::use_awaitable);
  } catch (velt::error const& e) {
    co_return std::string(e.what()) + "|" + std::string(to_string(e.status())) + "|" +
        std::to_string(e.details().http_status);
  }
  co_return "no exception";
}

TEST(ClientFetch, WrongCredentialsThrowTypedErrorWithoutSecrets) {
  mock::server srv(small_data(2));
  asio::io_context io;
  auto o = options_for(srv);
  o.api_key = "my-secret-api-key-123";
  velt::client c(io.get_executor(), o);
  std::string const what = run(io, expect_throw_next(c, srv.organization_id(), srv.user_ids()[0]));
  EXPECT_NE(what.find("PERMISSION_DENIED"), std::string::npos) << what;
  EXPECT_EQ(what.find("my-secret-api-key-123"), std::string::npos) << what;
  EXPECT_EQ(what.find(srv.auth_token()), std::string::npos) << what;
  EXPECT_EQ(srv.stats().requests, 1u) << "authorization failures are not retried";
}

TEST(ClientFetch, BadInputIsRefusedBeforeAnyIo) {
  mock::server srv(small_data(2));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  for (auto req : {user_data_request{"", "u", {}}, user_data_request{"org-1", "", {}},
                   user_data_request{"org-1", std::string("a\0b", 3), {}},
                   user_data_request{"org-1", "u", std::string()}}) {
    page_stream pages = c.async_fetch_all_user_data(req);
    auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
    EXPECT_EQ(ec, make_error_code(errc::invalid_request));
    EXPECT_EQ(pages.last_error().status, status::invalid_argument);
    EXPECT_FALSE(pages.last_error().message.empty());
  }
  EXPECT_EQ(srv.stats().requests, 0u);
  EXPECT_EQ(c.stats().connections_opened, 0u);
}

TEST(ClientFetch, ConstructorRefusesBadOptionsNamingTheField) {
  asio::io_context io;
  auto expect_refused = [&](client_options o, std::string const& field) {
    try {
      velt::client c(io.get_executor(), o);
      ADD_FAILURE() << "accepted, expected a complaint about " << field;
    } catch (velt::error const& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_EQ(e.details().attempts, 0u);
    }
  };
  client_options good;
  good.api_key = "k";
  good.auth_token = "t";
  auto o = good;
  o.base_url = "not a url";
  expect_refused(o, "base_url");
  o = good;
  o.base_url = "http://127.0.0.1:1";
  expect_refused(o, "base_url");
  o = good;
  o.base_url = "https://api.velt.dev/v2";
  expect_refused(o, "base_url");
  o = good;
  o.auth_token = "abc\r\nX-Evil: 1";
  expect_refused(o, "auth_token");
  o = good;
  o.api_key = "";
  expect_refused(o, "api_key");
  o = good;
  o.max_connections = 0;
  expect_refused(o, "max_connections");
  o = good;
  o.ca_file = "/nonexistent/ca.pem";
  expect_refused(o, "ca_file");
  velt::client ok(io.get_executor(), good);  // no I/O happens in the constructor
  EXPECT_THROW(ok.set_auth_token("a\nb"), velt::error);
}

TEST(ClientFetch, AuthTokenCanBeReplacedOnALiveClient) {
  mock::server srv(small_data(2));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
  c.set_auth_token("rotated-but-wrong");
  std::string what = run(io, expect_throw_next(c, srv.organization_id(), user));
  EXPECT_TRUE(what.find("PERMISSION_DENIED") != std::string::npos ||
              what.find("UNAUTHENTICATED") != std::string::npos)
      << what;
  c.set_auth_token(srv.auth_token());
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
}

TEST(ClientFetch, CancellationEndsPromptlyAndLeavesThePoolUsable) {
  auto so = small_data(3);
  mock::server srv(so);
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  auto const user = srv.user_ids()[0];
  srv.add_fault({.kind = mock::fault_kind::latency, .max_times = 1, .latency = 3000ms});

  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), user, {}});
  asio::cancellation_signal cancel;
  boost::system::error_code got = asio::error::would_block;
  pages.async_next(asio::bind_cancellation_slot(
      cancel.slot(), [&](boost::system::error_code ec, std::optional<user_data_page>) { got = ec; }));
  asio::steady_timer t(io, 100ms);
  t.async_wait([&](auto) { cancel.emit(asio::cancellation_type::terminal); });
  auto const start = std::chrono::steady_clock::now();
  io.run_for(10s);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);

  // The pool gives the permit back: a full export with a single connection works.
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
}

TEST(ClientFetch, DestroyingTheStreamCancelsItsWork) {
  mock::server srv(small_data(2));
  asio::io_context io;
  auto o = options_for(srv);
  o.max_connections = 1;
  velt::client c(io.get_executor(), o);
  srv.add_fault({.kind = mock::fault_kind::latency, .max_times = 1, .latency = 3000ms});
  boost::system::error_code got = asio::error::would_block;
  {
    page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
    pages.async_next([&](boost::system::error_code ec, std::optional<user_data_page>) { got = ec; });
    io.run_for(100ms);
  }
  auto const start = std::chrono::steady_clock::now();
  io.run_for(5s);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

TEST(ClientFetch, StreamDeadlineEndsSlowExports) {
  mock::server srv(small_data(2));
  asio::io_context io;
  auto o = options_for(srv);
  o.stream_deadline = 300ms;
  velt::client c(io.get_executor(), o);
  srv.set_latency(1000ms, 0ms);
  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  auto const start = std::chrono::steady_clock::now();
  auto [ec, page] = run(io, pages.async_next(asio::as_tuple(asio::use_awaitable)));
  EXPECT_EQ(canonical_status(ec), status::deadline_exceeded) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
}

TEST(ClientFetch, OneNextAtATime) {
  mock::server srv(small_data(2));
  asio::io_context io;
  velt::client c(io.get_executor(), options_for(srv));
  page_stream pages = c.async_fetch_all_user_data({srv.organization_id(), srv.user_ids()[0], {}});
  boost::system::error_code first = asio::error::would_block, second = asio::error::would_block;
  pages.async_next([&](boost::system::error_code ec, auto) { first = ec; });
  pages.async_next([&](boost::system::error_code ec, auto) { second = ec; });
  io.run_for(10s);
  EXPECT_FALSE(first);
  EXPECT_EQ(second, asio::error::in_progress);
}

TEST(ClientFetch, LogLinesNeverContainSecrets) {
  mock::server srv(small_data(2));
  asio::io_context io;
  auto o = options_for(srv);
  std::vector<std::string> lines;
  o.log = [&lines](log_level, std::string_view line) { lines.emplace_back(line); };
  velt::client c(io.get_executor(), o);
  srv.add_fault({.kind = mock::fault_kind::unavailable, .max_times = 2});
  auto const user = srv.user_ids()[0];
  EXPECT_TRUE(same_export(expected(srv, user),
                          run(io, stream_user(c, srv.organization_id(), user)).data));
  ASSERT_FALSE(lines.empty()) << "retries are logged";
  for (auto const& l : lines) {
    EXPECT_EQ(l.find(srv.api_key()), std::string::npos) << l;
    EXPECT_EQ(l.find(srv.auth_token()), std::string::npos) << l;
  }
}

}  // namespace
}  // namespace velt::test
