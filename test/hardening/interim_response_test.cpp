// SPDX-License-Identifier: BSL-1.0
// Interim (1xx) responses: 100 Continue, 102 Processing and 103 Early Hints before the final
// response are skipped and the final response is read on the same connection (never taken
// as the answer, never retried); at most 8 of them are accepted, and 101 Switching
// Protocols (we never ask for an upgrade) is a protocol error. Over plain HTTP and TLS.
#include "hardening_support.hpp"
#include "tls_test_server.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

namespace velt::hardening {
namespace {

std::filesystem::path scratch_dir() { return hardening::scratch_dir("interim-"); }

/// "HTTP/1.1 <code> <reason>" with the given header lines (each ending CRLF), no body.
std::string interim(unsigned code, std::string const& reason, std::string const& headers = "") {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n" + headers + "\r\n";
}

std::string many_interims(unsigned n) {
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += i % 3 == 0   ? interim(100, "Continue")
           : i % 3 == 1 ? interim(102, "Processing")
                        : interim(103, "Early Hints", "Link: </a.css>; rel=preload\r\n");
  }
  return out;
}

void expect_one_page(stream_outcome const& got) {
  EXPECT_FALSE(got.ec) << got.error.to_string();
  EXPECT_EQ(got.pages, 1u);
  auto const* comments = got.data.if_contains("comments");
  ASSERT_NE(comments, nullptr);
  EXPECT_EQ(comments->as_array().size(), 1u);
}

TEST(HardeningInterim, ContinueThenTheFinalResponse) {
  raw_http_server srv([](raw_request const&) {
    return interim(100, "Continue") + http_response(200, one_page_body());
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 3;
  expect_one_page(fetch_once(o));
  EXPECT_EQ(srv.requests(), 1u) << "the interim response was taken as the answer and retried";
  EXPECT_EQ(srv.connections(), 1u);
}

TEST(HardeningInterim, EarlyHintsThenTheFinalResponse) {
  // The hints' own headers (here even a Retry-After and a Content-Type) are not the final
  // response's.
  raw_http_server srv([](raw_request const&) {
    return interim(103, "Early Hints",
                   "Link: </style.css>; rel=preload; as=style\r\nRetry-After: 3600\r\n"
                   "Content-Type: text/html\r\n") +
           http_response(200, one_page_body());
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 3;
  expect_one_page(fetch_once(o));
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningInterim, InterimResponsesInSeparateSegments) {
  // Each interim response, and the final one, in its own write with a pause between them.
  raw_http_server srv([](int fd, raw_request const&) {
    for (std::string const& part : {interim(100, "Continue"), interim(102, "Processing"),
                                     interim(103, "Early Hints", "Link: </x>; rel=preload\r\n"),
                                     http_response(200, one_page_body())}) {
      if (!send_all(fd, part)) return;
      std::this_thread::sleep_for(30ms);
    }
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  expect_one_page(fetch_once(o));
}

TEST(HardeningInterim, UpToEightInterimResponsesAreAccepted) {
  raw_http_server srv([](raw_request const&) {
    return many_interims(8) + http_response(200, one_page_body());
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  expect_one_page(fetch_once(o));
}

TEST(HardeningInterim, ANinthInterimResponseIsATypedError) {
  raw_http_server srv([](raw_request const&) {
    return many_interims(9) + http_response(200, one_page_body());
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  auto got = fetch_once(o);
  ASSERT_TRUE(got.ec) << "nine interim responses were accepted";
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response));
  EXPECT_EQ(got.error.status, status::internal);
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_NE(got.error.message.find("more than 8 interim (1xx) responses"), std::string::npos)
      << got.error.message;
  EXPECT_EQ(got.error.message.find("not JSON"), std::string::npos)
      << "no misleading generic text: " << got.error.message;
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningInterim, EndlessInterimResponsesEndQuickly) {
  // A server that sends "100 Continue" for ever: the count bound, not the request timeout,
  // ends the exchange.
  raw_http_server srv([](int fd, raw_request const&) {
    std::string const block = many_interims(64);
    for (int i = 0; i < 100000 && send_all(fd, block); ++i) {
    }
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  o.timeouts.request = 20s;
  o.timeouts.idle_read = 20s;
  auto const started = std::chrono::steady_clock::now();
  auto got = fetch_once(o);
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response)) << got.error.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(HardeningInterim, InterimResponsesDoNotExtendTheRequestDeadline) {
  // Up to the bound, but slower than the request timeout: the deadline still ends it.
  raw_http_server srv([](int fd, raw_request const&) {
    for (int i = 0; i < 8; ++i) {
      if (!send_all(fd, interim(102, "Processing"))) return;
      std::this_thread::sleep_for(250ms);
    }
    send_all(fd, http_response(200, one_page_body()));
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  o.timeouts.request = 600ms;
  o.timeouts.idle_read = 2s;
  auto const started = std::chrono::steady_clock::now();
  auto got = fetch_once(o);
  EXPECT_EQ(got.error.status, status::deadline_exceeded) << got.error.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1800ms);
}

TEST(HardeningInterim, SwitchingProtocolsIsATypedError) {
  raw_http_server srv([](raw_request const&) {
    return interim(101, "Switching Protocols", "Upgrade: websocket\r\nConnection: Upgrade\r\n") +
           "\x81\x05hello" + http_response(200, one_page_body());
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 1;
  auto got = fetch_once(o);
  ASSERT_TRUE(got.ec) << "a 101 was accepted";
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response));
  EXPECT_EQ(got.error.attempts, 1u);
  EXPECT_NE(got.error.message.find("101"), std::string::npos) << got.error.message;

  // Also after an accepted interim response.
  raw_http_server late([](raw_request const&) {
    return interim(100, "Continue") + interim(101, "Switching Protocols") +
           http_response(200, one_page_body());
  });
  EXPECT_EQ(fetch_once(plain_options(late.url())).ec, make_error_code(errc::malformed_response));
}

// One deletion request for user "u" with a fresh client (a completion handler, so that
// the details of a failure are kept).
struct deletion {
  boost::system::error_code ec;
  delete_job job;
  error_details details;
};
deletion delete_once(client_options o) {
  asio::io_context io;
  velt::client c(io.get_executor(), std::move(o));
  deletion d;
  c.async_delete_all_user_data({.user_ids = {"u"}}, d.details,
                               [&d](boost::system::error_code ec, delete_job j) {
                                 d.ec = ec;
                                 d.job = std::move(j);
                               });
  io.run_for(10s);
  return d;
}

TEST(HardeningInterim, DeletionAfterContinueIsNotResent) {
  raw_http_server srv([](raw_request const&) {
    return interim(100, "Continue") +
           http_response(202, R"({"status":"success","message":"queued",)"
                              R"("data":{"jobId":"job-1","tasksCount":3},"statusCode":202})");
  });
  client_options o = plain_options(srv.url());
  o.retry.max_attempts = 3;
  auto const d = delete_once(o);
  EXPECT_FALSE(d.ec) << d.details.to_string();
  EXPECT_EQ(d.job.job_id, "job-1");
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningInterim, ADeletionThatSaysProcessingIsWaitedFor) {
  // "102 Processing", then the answer later than the idle limit: a delete waits for it
  // (up to the request timeout) instead of losing the jobId of a job the server queued.
  raw_http_server srv([](int fd, raw_request const&) {
    if (!send_all(fd, interim(102, "Processing"))) return;
    std::this_thread::sleep_for(600ms);
    send_all(fd, http_response(202, R"({"status":"success","message":"queued",)"
                                    R"("data":{"jobId":"job-2"},"statusCode":202})"));
  });
  client_options o = plain_options(srv.url());
  o.timeouts.idle_read = 150ms;
  auto const d = delete_once(o);
  EXPECT_FALSE(d.ec) << d.details.to_string();
  EXPECT_EQ(d.job.job_id, "job-2");
  EXPECT_EQ(srv.requests(), 1u);
}

TEST(HardeningInterim, OverTls) {
  tls_test_server ok(TLS1_2_VERSION, TLS1_3_VERSION, scratch_dir(),
                     interim(100, "Continue") + interim(103, "Early Hints") +
                         http_response(200, one_page_body()));
  client_options o = plain_options(ok.url());
  o.allow_plain_http = false;
  o.ca_file = ok.ca_file();
  o.retry.max_attempts = 3;
  expect_one_page(fetch_once(o));
  EXPECT_EQ(ok.requests(), 1u);

  tls_test_server upgrade(TLS1_2_VERSION, TLS1_3_VERSION, scratch_dir(),
                          interim(101, "Switching Protocols") + http_response(200, one_page_body()));
  o.base_url = upgrade.url();
  o.ca_file = upgrade.ca_file();
  o.retry.max_attempts = 1;
  auto got = fetch_once(o);
  EXPECT_EQ(got.ec, make_error_code(errc::malformed_response)) << got.error.to_string();
}

}  // namespace
}  // namespace velt::hardening
