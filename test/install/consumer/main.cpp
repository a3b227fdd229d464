// SPDX-License-Identifier: BSL-1.0
// A consumer of the installed package: encodes a request, decodes a response, and makes a
// client (no I/O), to prove headers, library and dependencies are all found; and checks that
// the installed <velt/version.hpp>, the library's velt::version() and the CMake package
// (VELT_PACKAGE_VERSION, from CMakeLists.txt) name the same version.
#include <velt/client.hpp>
#include <velt/version.hpp>
#include <velt/wire.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

int main() {
  auto body = velt::wire::encode(velt::user_data_request{"org", "alice", {}});
  std::string const response =
      R"({"result":{"status":"success","data":{"comments":[{"commentId":1}]},"nextPageToken":null}})";
  auto page = velt::wire::decode_user_data({200, response, {}, "application/json"});
  if (!page || page->comments().size() != 1 || !page->is_last()) return 1;

  boost::asio::io_context io;
  velt::client_options o;
  o.api_key = "k";
  o.auth_token = "t";
  velt::client client(io.get_executor(), o);
  (void)client;

  std::string const version = velt::version();
  std::string const from_numbers = std::to_string(VELT_VERSION_MAJOR) + "." + std::to_string(VELT_VERSION_MINOR) +
                                   "." + std::to_string(VELT_VERSION_PATCH);
  if (version != VELT_PACKAGE_VERSION || version != VELT_VERSION_STRING || version != from_numbers ||
      VELT_VERSION != VELT_VERSION_MAJOR * 100000 + VELT_VERSION_MINOR * 100 + VELT_VERSION_PATCH) {
    std::cout << "version mismatch: library " << version << ", header " << VELT_VERSION_STRING << " ("
              << VELT_VERSION << "), package " << VELT_PACKAGE_VERSION << "\n";
    return 1;
  }
  std::cout << "consumer ok: velt " << version << ": " << body << "\n";
  return 0;
}
