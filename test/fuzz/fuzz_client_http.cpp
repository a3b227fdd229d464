// SPDX-License-Identifier: BSL-1.0
// Fuzzes the client's HTTP response handling through its real code: connection, pool,
// Beast's parser with the client's limits, decoding, retry decisions and redaction.
//
// A plain-HTTP server on 127.0.0.1 (one per fuzzer process, on a background thread) reads
// each request and answers it with the raw fuzz bytes, then closes the connection. The
// client (allow_plain_http, small timeouts and limits) performs one operation and must
// complete — with a value or a typed error — within a deadline: never crash or hang.
//
// Input: [op: 1 byte][the raw HTTP response: the rest]
//   op % 4: 0, 1 fetch one page (page_stream); 2 delete; 3 delete status.
//   op & 4: max_attempts 2 (else 1).
//   op & 8: amplify: after the input, the server repeats its last 16 bytes (up to 96 MiB,
//           until the client stops reading). With -malloc_limit_mb=64 (scripts/fuzz), a
//           client that buffers what its header and body limits should have refused is a
//           finding.
#include "fuzz_support.hpp"
#include "../support/raw_http_server.hpp"

#include <velt/client.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using velt::fuzz::check;

constexpr char const* kApiKey = "FUZZ-API-KEY-b7e1c9d24f";
constexpr char const* kToken = "FUZZ-AUTH-TOKEN-3a8f60e2d1";

/// The loopback server: answers every request with the current input (and, when asked,
/// repeats its last 16 bytes after it).
class answering_server {
 public:
  std::uint16_t port() const { return server_.port(); }

  void set_answer(std::string_view bytes, bool amplify) {
    auto fresh = std::make_shared<std::string const>(bytes);
    std::lock_guard lock(mutex_);
    answer_ = std::move(fresh);
    amplify_ = amplify;
  }

 private:
  void write_answer(int c) {
    std::shared_ptr<std::string const> answer;
    bool amplify = false;
    {
      std::lock_guard lock(mutex_);
      answer = answer_;
      amplify = amplify_;
    }
    std::string_view const all = answer ? std::string_view(*answer) : std::string_view();
    bool ok = velt::test::send_all(c, all);
    if (ok && amplify && !all.empty()) {
      std::string_view const tail = all.substr(all.size() - std::min<std::size_t>(all.size(), 16));
      std::string block;
      while (block.size() < 65536) block.append(tail);
      for (std::size_t total = 0; ok && total < (std::size_t{96} << 20); total += block.size())
        ok = velt::test::send_all(c, block);
    }
  }

  std::mutex mutex_;
  std::shared_ptr<std::string const> answer_;
  bool amplify_ = false;
  // Short socket timeouts, a small request limit, and no record of requests: the fuzzer
  // sends millions.
  velt::test::raw_http_server server_{
      velt::test::raw_http_server::writer([this](int c, velt::test::raw_request const&) { write_answer(c); }),
      {.io_timeout = std::chrono::seconds(1), .max_request_bytes = 65536, .keep_requests = false}};
};

answering_server& server() {
  static answering_server* s = new answering_server();  // lives for the whole process
  return *s;
}

bool contains_secret(std::string_view text) {
  return text.find(kApiKey) != std::string_view::npos || text.find(kToken) != std::string_view::npos;
}

void check_error(velt::error_details const& e, unsigned max_attempts) {
  check(e.status != velt::status::ok, "an error with status OK");
  check(static_cast<bool>(e.code), "an error without a code");
  check(!e.message.empty(), "an error without a message");
  check(e.attempts >= 1 && e.attempts <= max_attempts, "attempts out of range");
  check(!contains_secret(e.message) && !contains_secret(e.to_string()),
        "a secret in an error message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  std::uint8_t const op = in.byte();
  server().set_answer(in.rest(), (op & 8) != 0);

  unsigned const max_attempts = (op & 4) ? 2 : 1;
  auto lines = std::make_shared<std::vector<std::string>>();

  velt::client_options o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server().port());
  o.allow_plain_http = true;
  o.api_key = kApiKey;
  o.auth_token = kToken;
  o.max_connections = 1;
  o.stream_deadline = 6s;
  o.timeouts.connect = 2s;
  o.timeouts.request = 4s;
  o.timeouts.idle_read = 2s;
  o.retry.max_attempts = max_attempts;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 2ms;
  o.retry.max_retry_after = 5ms;
  o.limits.max_body_bytes = 16 * 1024;
  o.limits.max_depth = 16;
  o.max_header_bytes = 2 * 1024;
  o.log = [lines](velt::log_level, std::string_view l) { lines->emplace_back(l); };

  boost::asio::io_context io;
  velt::client c(io.get_executor(), o);
  bool done = false;
  velt::error_details details;
  std::optional<velt::page_stream> stream;

  switch (op % 4) {
    case 0:
    case 1: {
      stream.emplace(c.async_fetch_all_user_data({.organization_id = "org-1", .user_id = "user-1"}));
      stream->async_next([&](boost::system::error_code ec, std::optional<velt::user_data_page> p) {
        done = true;
        if (ec) {
          check(!p.has_value(), "a page together with an error");
          check_error(stream->last_error(), max_attempts);
          check(stream->last_error().code == ec, "last_error differs from the completion");
          return;
        }
        check(p.has_value(), "no page and no error on the first async_next");
        for (auto const& [key, value] : p->data())
          check(value.is_array() || key == "nextPageToken", "a feature that is not an array");
        check(p->index() == 0, "the first page is not page 0");
      });
      break;
    }
    case 2:
      c.async_delete_all_user_data({.user_ids = {"user-1"}}, details,
                                   [&](boost::system::error_code ec, velt::delete_job job) {
                                     done = true;
                                     if (ec) check_error(details, max_attempts);
                                     else check(!job.job_id.empty(), "an empty job id");
                                   });
      break;
    default:
      c.async_get_delete_user_data_status({.job_id = "job-1"}, details,
                                          [&](boost::system::error_code ec, velt::delete_status st) {
                                            done = true;
                                            if (ec) check_error(details, max_attempts);
                                            else check(st.tasks_left >= 0, "negative tasksLeft");
                                          });
      break;
  }

  auto const deadline = std::chrono::steady_clock::now() + 8s;
  while (!done) {
    io.run_for(100ms);
    if (done) break;
    check(!io.stopped(), "the operation ran out of work without completing");
    check(std::chrono::steady_clock::now() < deadline,
          "the operation did not complete within 8 s (hang)");
  }
  for (auto const& l : *lines) check(!contains_secret(l), "a secret in a log line");
  return 0;
}
