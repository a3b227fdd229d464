// SPDX-License-Identifier: BSL-1.0
// Shared by the batch tests.
#pragma once

#include <velt/client.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <string>

namespace velt::test::batch {

/// A client that never connects (for checks made before any I/O).
inline velt::client offline_client(boost::asio::io_context& io) {
  client_options o;
  o.base_url = "https://127.0.0.1:1";
  o.api_key = "k";
  o.auth_token = "t";
  return velt::client(io.get_executor(), o);
}

/// Expects `make()` to throw velt::error (invalid_request) naming `field`.
template <class Make>
void expect_refused(Make make, std::string const& field) {
  try {
    make();
    ADD_FAILURE() << "accepted: " << field;
  } catch (velt::error const& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_request)) << field;
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

}  // namespace velt::test::batch
