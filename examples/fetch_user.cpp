// SPDX-License-Identifier: BSL-1.0
// Streams one user's pages and prints what each page holds.
//   fetch_user ORGANIZATION_ID USER_ID
#include "example_support.hpp"

#include <velt/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;

asio::awaitable<void> fetch(velt::client client, std::string org, std::string user) {
  velt::page_stream pages = client.async_fetch_all_user_data(
      velt::user_data_request{.organization_id = org, .user_id = user});
  std::size_t items = 0;
  while (std::optional<velt::user_data_page> page =
             co_await pages.async_next(asio::use_awaitable)) {
    std::cout << "page " << page->index() << ": " << page->comments().size() << " comments, "
              << page->reactions().size() << " reactions, " << page->recordings().size()
              << " recordings, " << page->notifications().size() << " notifications\n";
    items += page->item_count();
  }
  std::cout << "done: " << pages.pages_delivered() << " pages, " << items << " items\n";
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fetch_user ORGANIZATION_ID USER_ID\n";
    return 2;
  }
  auto options = options_from_environment();
  if (!options) return 2;
  asio::io_context io;
  int status = 0;
  try {
    velt::client client(io.get_executor(), *options);
    asio::co_spawn(io, fetch(client, argv[1], argv[2]), [&](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (velt::error const& err) {
        std::cerr << "error: " << err.what() << "\n";
        status = 1;
      }
    });
    io.run();
  } catch (velt::error const& err) {
    std::cerr << "error: " << err.what() << "\n";
    return 2;
  }
  return status;
}
