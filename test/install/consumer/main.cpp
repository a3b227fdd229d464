// SPDX-License-Identifier: BSL-1.0
// A consumer of the installed package: encodes a request, decodes a response, and exports
// a user over TLS from an in-process velt::mock server with velt::client, to prove headers,
// libraries and dependencies are all found and that the library runs on the program's own
// Asio, compiled the way the program chose (VELT_CONSUMER_ASIO in CMakeLists.txt); and checks
// that the installed <velt/version.hpp>, the library's velt::version() and the CMake package
// (VELT_PACKAGE_VERSION, from CMakeLists.txt) name the same version. velt::audit: signs and
// checks a receipt (its OpenSSL dependency, private, must still link).
#include <velt/audit.hpp>
#include <velt/client.hpp>
#include <velt/mock/server.hpp>
#include <velt/version.hpp>
#include <velt/wire.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#if defined(VELT_CONSUMER_COMPILES_ASIO)
#if !defined(BOOST_ASIO_SEPARATE_COMPILATION) || defined(BOOST_ASIO_HEADER_ONLY)
#error "VELT_CONSUMER_ASIO=separate without BOOST_ASIO_SEPARATE_COMPILATION"
#endif
char const* const asio_mode = "separate";
#else
// The package must not choose for the program.
#if defined(BOOST_ASIO_SEPARATE_COMPILATION) || defined(BOOST_BEAST_SEPARATE_COMPILATION) || \
    !defined(BOOST_ASIO_HEADER_ONLY)
#error "the velt package imposed Asio's separate compilation on a header-only consumer"
#endif
char const* const asio_mode = "header-only";
#endif

int main() {
  auto body = velt::wire::encode(velt::user_data_request{"org", "alice", {}});
  std::string const response =
      R"({"result":{"status":"success","data":{"comments":[{"commentId":1}]},"nextPageToken":null}})";
  auto page = velt::wire::decode_user_data({200, response, {}, "application/json"});
  if (!page || page->comments().size() != 1 || !page->is_last()) return 1;

  std::string const version = velt::version();
  std::string const from_numbers = std::to_string(VELT_VERSION_MAJOR) + "." + std::to_string(VELT_VERSION_MINOR) +
                                   "." + std::to_string(VELT_VERSION_PATCH);
  if (version != VELT_PACKAGE_VERSION || version != VELT_VERSION_STRING || version != from_numbers ||
      VELT_VERSION != VELT_VERSION_MAJOR * 100000 + VELT_VERSION_MINOR * 100 + VELT_VERSION_PATCH) {
    std::cout << "version mismatch: library " << version << ", header " << VELT_VERSION_STRING << " ("
              << VELT_VERSION << "), package " << VELT_PACKAGE_VERSION << "\n";
    return 1;
  }

  auto const key = velt::audit::signing_key::generate();
  velt::audit::erasure_receipt receipt;
  receipt.user_id = "alice@example.com";
  receipt.job_id = "job";
  auto const signed_receipt = velt::audit::sign_receipt(receipt, key);
  if (!velt::audit::verify_receipt(signed_receipt.json, signed_receipt.signature, key.public_key()).good ||
      velt::audit::user_file_stem("alice@example.com") != "alice%40example.com") {
    std::cout << "velt::audit: a receipt it signed does not verify\n";
    return 1;
  }

  // The error categories this program's code uses (inline in header-only mode): the test
  // checks that the linked program holds one of each, shared with the library.
  boost::system::error_code const eof = boost::asio::error::eof;
  boost::system::error_code const truncated = boost::asio::ssl::error::stream_truncated;
  boost::system::error_code const end_of_stream = boost::beast::http::error::end_of_stream;
  if (eof == truncated || truncated == end_of_stream) return 1;

  // A real export over TLS, Beast and the pool: the user with the most pages.
  velt::mock::server server{velt::mock::server_options{}};
  std::vector<std::string> const users = server.user_ids();
  std::string const user = *std::max_element(users.begin(), users.end(), [&](auto const& a, auto const& b) {
    return server.expected_pages(a) < server.expected_pages(b);
  });

  boost::asio::io_context io;
  velt::client_options o;
  o.base_url = server.url();
  o.ca_file = server.ca_file().string();
  o.api_key = server.api_key();
  o.auth_token = server.auth_token();
  velt::client client(io.get_executor(), o);
  boost::system::error_code fetch_error = boost::asio::error::would_block;
  std::optional<velt::user_data> fetched;
  velt::user_data_request request{server.organization_id(), user, {}};
  client.async_fetch_user_data(std::move(request), [&](boost::system::error_code ec, velt::user_data data) {
    fetch_error = ec;
    fetched = std::move(data);
  });
  io.run_for(std::chrono::seconds(60));
  if (fetch_error || !fetched || fetched->pages != server.expected_pages(user) || fetched->pages < 2 ||
      fetched->data.at("comments") != server.expected_export(user).at("comments")) {
    std::cout << "export of " << user << " failed: " << fetch_error.message() << " ("
              << (fetched ? fetched->pages : 0) << " of " << server.expected_pages(user) << " pages)\n";
    return 1;
  }

  std::cout << "consumer ok: velt " << version << " (Asio " << asio_mode << "), " << user << ": "
            << fetched->pages << " pages over TLS: " << body << "\n";
  return 0;
}
