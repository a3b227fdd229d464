// SPDX-License-Identifier: BSL-1.0
// Fuzzes the response decoders of the three endpoints and decode_error with arbitrary
// bodies, HTTP statuses and Retry-After values, and cross-checks wire::parse_json against
// boost::json::parse.
//
// Input: [status: 2 bytes][flags: 1 byte][Retry-After: flags & 31 bytes][body: the rest]
//   status = 100 + (big-endian u16 % 500); flags >> 5 picks the decode limits.
#include "fuzz_support.hpp"

#include <velt/wire.hpp>

#include <chrono>

namespace {

using namespace velt;
using velt::fuzz::check;

// Every error the decoders give: a non-OK canonical status consistent with its code, a
// message, the response's HTTP status, and no attempts (nothing was sent by a decoder).
void check_error(error_details const& e, unsigned http_status) {
  check(e.status != status::ok, "an error with status OK");
  check(static_cast<bool>(e.code), "an error without an error code");
  check(canonical_status(e.code) == e.status, "error status differs from its code's");
  check(!e.message.empty(), "an error without a message");
  check(e.http_status == http_status, "error http_status differs from the response's");
  check(e.attempts == 0, "a decoder counted attempts");
  if (e.retry_after) check(e.retry_after->count() >= 0, "negative Retry-After");
  if (http_status >= 300 && http_status < 400)
    check(e.code == make_error_code(errc::unexpected_redirect), "a 3xx that is no redirect error");
  check(!e.to_string().empty(), "empty to_string");
}

void check_page(user_data_page const& p, unsigned http_status) {
  check(http_status >= 200 && http_status < 300, "a page decoded from a non-2xx response");
  std::size_t items = 0;
  for (auto const& [key, value] : p.data()) {
    if (value.is_array()) {
      items += value.get_array().size();
      continue;
    }
    check(key == "nextPageToken" && (value.is_string() || value.is_null()),
          "a page feature that is not an array");
  }
  check(items == p.item_count(), "item_count differs from the arrays' sizes");
  if (p.next_page_token()) check(!p.next_page_token()->empty(), "an empty next page token");
  for (char const* f : known_features) (void)p.feature(f).size();
}

void cross_check_parse(std::string_view body, wire::decode_limits const& limits) {
  auto ours = wire::parse_json(body, limits);
  if (body.size() > limits.max_body_bytes) {
    check(!ours && ours.error().code == make_error_code(errc::response_too_large),
          "a body over max_body_bytes was parsed");
    return;
  }
  boost::json::parse_options opts;
  opts.max_depth = limits.max_depth;
  boost::system::error_code ec;
  boost::json::value theirs = boost::json::parse(body, ec, {}, opts);
  if (ours) {
    if (ec) {
      // The one documented difference: an unpaired surrogate escape becomes U+FFFD. Boost
      // must accept the text with exactly that repair, and give the same value.
      check(velt::fuzz::has_surrogate_escape(body),
            "parse_json accepted what boost::json::parse rejects (no surrogate escape)");
      boost::system::error_code repaired_ec;
      boost::json::value repaired = boost::json::parse(
          velt::fuzz::repair_unpaired_surrogates(body), repaired_ec, {}, opts);
      check(!repaired_ec, "parse_json accepted what boost::json::parse rejects even repaired");
      check(velt::fuzz::same_json(*ours, repaired, /*exact_doubles=*/false),
            "parse_json's surrogate repair differs from the documented one");
    } else {
      check(velt::fuzz::same_json(*ours, theirs, /*exact_doubles=*/false),
            "parse_json and boost::json::parse disagree");
    }
  } else {
    auto const& e = ours.error();
    check(e.code == make_error_code(errc::malformed_response) ||
              e.code == make_error_code(errc::response_too_deep) ||
              e.code == make_error_code(errc::response_too_large),
          "parse_json failed with an unexpected code");
    check(!e.message.empty(), "parse error without a message");
    if (!ec) {
      // Boost accepts, velt refuses: only numbers beyond DBL_MAX (no double carries them).
      check(e.message.find("too large for a double") != std::string::npos,
            "parse_json rejected what boost::json::parse accepts");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  velt::fuzz::reader in(data, size);
  unsigned const http_status = 100 + in.u16() % 500;
  std::uint8_t const flags = in.byte();
  std::string_view const retry_after = in.take(flags & 31u);
  std::string_view const body = in.rest();

  wire::decode_limits limits;
  switch (flags >> 5) {
    case 1: limits.max_depth = 3; break;
    case 2: limits.max_depth = 1; break;
    case 3: limits.max_body_bytes = 64; break;
    case 4: limits.max_depth = 8; limits.max_body_bytes = 512; break;
    default: break;
  }
  auto const now = std::chrono::system_clock::time_point(std::chrono::seconds(1'750'000'000));
  wire::http_response_view const view{http_status, body, retry_after, "application/json"};

  auto const err = wire::decode_error(view, limits, now);
  check_error(err, http_status);

  if (auto page = wire::decode_user_data(view, limits, now))
    check_page(*page, http_status);
  else
    check_error(page.error(), http_status);

  if (auto job = wire::decode_delete_job(view, limits, now)) {
    check(http_status >= 200 && http_status < 300, "a job decoded from a non-2xx response");
    check(!job->job_id.empty(), "an empty job id");
    if (job->tasks_count) check(*job->tasks_count >= 0, "a negative tasksCount");
  } else {
    check_error(job.error(), http_status);
  }

  if (auto st = wire::decode_delete_status(view, limits, now)) {
    check(http_status >= 200 && http_status < 300, "a status decoded from a non-2xx response");
    check(st->tasks_left >= 0, "negative tasksLeft");
  } else {
    check_error(st.error(), http_status);
  }

  cross_check_parse(body, limits);
  return 0;
}
