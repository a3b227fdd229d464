// A consumer of the installed package: encodes a request, decodes a response, and makes a
// client (no I/O), to prove headers, library and dependencies are all found.
#include <velt/client.hpp>
#include <velt/wire.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

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
  std::cout << "consumer ok: " << body << "\n";
  return 0;
}
