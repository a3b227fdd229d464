// SPDX-License-Identifier: BSL-1.0
// The state of one page_stream: the user's page-token chain, touched only on its strand.
#pragma once

#include "client/client_impl.hpp"
#include "client/operation_cancellation.hpp"
#include "client/page_token_chain.hpp"

#include <velt/client.hpp>

#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace velt::detail {

struct stream_state {
  stream_state(std::shared_ptr<client_impl> c, user_data_request r)
      : client(std::move(c)),
        strand(boost::asio::make_strand(client->executor())),
        request(std::move(r)),
        chain(request.page_token),
        cancel(std::make_shared<operation_cancellation>(strand)) {}

  std::shared_ptr<client_impl> client;
  boost::asio::strand<boost::asio::any_io_executor> strand;
  user_data_request request;  ///< request.page_token: set from `chain` for each request
  page_token_chain chain;     ///< the token for the next page, page indices, cycles
  page_format format = page_format::parsed;
  call_tuning tuning;  ///< this stream's own retry observer and attempt limit
  bool finished = false;  ///< the chain ended, or an error ended the stream
  error_details last_error;
  std::optional<clock_type::time_point> deadline;
  std::atomic<bool> busy{false};  ///< an async_next is in flight
  std::shared_ptr<operation_cancellation> cancel;  ///< of the async_next in flight
};

/// Completes at once with `e` (used to report misuse through the normal completion path).
boost::asio::awaitable<result<std::optional<user_data_page>>> fail_with(error_details e);

/// Fetches the next page of `st` (runs on st->strand). Never throws.
boost::asio::awaitable<result<std::optional<user_data_page>>> next_page(
    std::shared_ptr<stream_state> st);

}  // namespace velt::detail
