// SPDX-License-Identifier: BSL-1.0
#include "client/response_exchange.hpp"

#include <algorithm>

namespace velt::detail {

std::size_t body_budget_share(std::optional<std::uint64_t> content_length,
                              std::size_t budget_bytes, bool coded, std::size_t max_body) noexcept {
  if (budget_bytes == 0) return 0;
  std::uint64_t announced = content_length.value_or(unannounced_body_estimate);
  if (coded)
    announced = std::max<std::uint64_t>(
        announced, std::min<std::uint64_t>(unannounced_body_estimate, max_body));
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(announced, 1, static_cast<std::uint64_t>(budget_bytes)));
}

void response_exchange::on_request_written(std::size_t bytes, bool timed_out) noexcept {
  if (bytes > 0 || timed_out) request_sent_ = true;
}

clock_type::time_point response_exchange::read_expiry(clock_type::time_point now) const noexcept {
  // Velt documents a delete call that takes up to ~5 minutes to answer, and a server may
  // send "102 Processing" while it works: before the first byte of each message the idle
  // limit applies only when asked for (or when nothing else would bound the wait).
  bool const idle_applies = message_started_ || timing_.idle_read_before_first_byte ||
                            deadline_ == clock_type::time_point::max();
  if (timing_.idle_read.count() <= 0 || !idle_applies) return deadline_;
  if (now >= deadline_ - timing_.idle_read) return deadline_;  // also: no overflow near max()
  return now + timing_.idle_read;
}

void response_exchange::on_bytes() noexcept { response_started_ = message_started_ = true; }

response_exchange::step response_exchange::on_message(unsigned http_status, bool more_buffered) {
  using kind = step::kind;
  if (!is_interim(http_status)) {
    complete_ = true;
    return {};
  }
  if (http_status == 101)
    return {kind::fail,
            "read response: unexpected HTTP 101 (Switching Protocols), no upgrade was requested"};
  if (interim_ == max_interim_responses)
    return {kind::fail, "read response: more than " + std::to_string(max_interim_responses) +
                            " interim (1xx) responses"};
  ++interim_;
  // A fresh message: its first byte is waited for as the first one was (after "102
  // Processing" a delete waits up to its deadline again), unless it is already buffered.
  message_started_ = more_buffered;
  return {kind::next_message, {}};
}

velt::delivery response_exchange::delivery() const noexcept {
  if (complete_) return delivery::answered;
  return request_sent_ ? delivery::maybe_delivered : delivery::not_sent;
}

}  // namespace velt::detail
