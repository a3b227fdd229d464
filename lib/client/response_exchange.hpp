// SPDX-License-Identifier: BSL-1.0
// Sans-I/O rules of one request/response exchange on a connection: how far the request got
// (for `error_details::delivery`), when each read must have produced a byte (the request
// deadline and the idle-read limit), what an interim (1xx) response means, and how much of
// the pool's body budget a final response takes. No sockets, no clock: the connection
// drives a `response_exchange` with what happened and the current time, and does what it
// says.
#pragma once

#include <velt/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace velt::detail {

using clock_type = std::chrono::steady_clock;

/// Interim (1xx) responses accepted before the final response of one exchange; one more
/// (or any 101 Switching Protocols) is `errc::malformed_response`.
inline constexpr unsigned max_interim_responses = 8;

/// What a response whose length is not announced (chunked, or read to EOF) takes from the
/// body budget.
inline constexpr std::size_t unannounced_body_estimate = std::size_t{1} << 20;

/// True for 1xx statuses (interim responses: no body, the final response follows).
constexpr bool is_interim(unsigned http_status) noexcept {
  return http_status >= 100 && http_status <= 199;
}

/// The bytes of the body budget (`budget_bytes` in all, 0: no budget) a final response
/// takes once its header is in: its Content-Length, `unannounced_body_estimate` when it
/// announces none, at least 1 and at most the whole budget (a larger body waits until it
/// can have all of it).
///
/// A content-coded (gzip) body inflates to a size no header announces: it takes the larger
/// of its Content-Length and what an unannounced body takes, the latter no more than
/// `max_body` (which bounds the inflated size); still at most the whole budget. The share is an
/// estimate, not a reservation: what one connection holds is bounded by `max_body` anyway.
std::size_t body_budget_share(std::optional<std::uint64_t> content_length,
                              std::size_t budget_bytes, bool coded = false,
                              std::size_t max_body = SIZE_MAX) noexcept;

/// How reads of a response are timed.
struct read_timing {
  /// No response byte for this long ends the read (0: no idle limit). It always runs
  /// between bytes of a message.
  std::chrono::milliseconds idle_read{0};
  /// Whether the idle limit also bounds the wait for the first byte of each message (the
  /// final one after any interim response). Off for a request the server may take minutes
  /// to answer (a delete): the deadline alone bounds that wait, unless there is none.
  bool idle_read_before_first_byte = true;
};

/// One exchange, from writing the request to the end of the final response.
class response_exchange {
 public:
  /// What to do after a complete message (see `on_message`).
  struct step {
    enum class kind {
      final_response,  ///< the answer: the exchange is complete
      next_message,    ///< an interim response: parse the next message (fresh limits)
      fail,            ///< a protocol error (`errc::malformed_response`), `why` says which
    } what = kind::final_response;
    std::string why;
  };

  /// `deadline`: of the whole exchange (`time_point::max()`: none).
  response_exchange(read_timing timing, clock_type::time_point deadline) noexcept
      : timing_(timing), deadline_(deadline) {}

  /// The request write ended having written `bytes` (of any size; 0 when it failed at
  /// once). A write that timed out counts as sent whatever it reports: bytes may be on
  /// their way.
  void on_request_written(std::size_t bytes, bool timed_out) noexcept;

  /// When the next read must have produced a byte, if it starts at `now`: the deadline, or
  /// `now + idle_read` when earlier and the idle limit applies (between bytes of a message;
  /// before its first byte only with `idle_read_before_first_byte`, or with no deadline).
  clock_type::time_point read_expiry(clock_type::time_point now) const noexcept;

  /// Bytes of the message being parsed have arrived (buffered or parsed).
  void on_bytes() noexcept;

  /// A complete message with `http_status` was parsed; `more_buffered`: bytes after it are
  /// already buffered (the next message has started). A final (non-1xx) status completes
  /// the exchange; an interim one is skipped, at most `max_interim_responses` of them; a
  /// 101 (an upgrade we never ask for) or one interim response too many is an error.
  step on_message(unsigned http_status, bool more_buffered);

  /// How far the exchange got: not_sent until a request byte was written, answered once
  /// the final response was read completely, maybe_delivered in between.
  velt::delivery delivery() const noexcept;

  bool response_started() const noexcept { return response_started_; }
  bool message_started() const noexcept { return message_started_; }
  unsigned interim_responses() const noexcept { return interim_; }

 private:
  read_timing timing_;
  clock_type::time_point deadline_;
  bool request_sent_ = false;
  bool response_started_ = false;  ///< any response byte, interim responses included
  bool message_started_ = false;   ///< bytes of the message being parsed
  bool complete_ = false;
  unsigned interim_ = 0;
};

}  // namespace velt::detail
