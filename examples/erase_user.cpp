// SPDX-License-Identifier: BSL-1.0
// Queues deletion of users' data, polls the job until it completes, and reports.
//   erase_user ORGANIZATION_ID USER_ID...
#include "example_support.hpp"

#include <velt/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;

asio::awaitable<void> erase(velt::client client, std::string org, std::vector<std::string> users) {
  // Named before co_await: g++ 12 cannot keep a braced list alive across a suspension.
  velt::delete_user_data_request request{.user_ids = users, .organization_ids = {org}};
  velt::delete_job job =
      co_await client.async_delete_all_user_data(std::move(request), asio::use_awaitable);
  std::cout << "queued job " << job.job_id;
  if (job.tasks_count) std::cout << " (" << *job.tasks_count << " tasks)";
  std::cout << "\n";

  velt::wait_for_deletion_request wait{.job_id = job.job_id, .poll_interval = std::chrono::milliseconds(200)};
  wait.on_progress = [](velt::delete_status const& s) {
    std::cout << "  tasks left: " << s.tasks_left << "\n";
  };
  velt::delete_status done = co_await client.async_wait_for_deletion(wait, asio::use_awaitable);
  std::cout << "job " << job.job_id << " complete";
  if (done.last_task_completed_time)
    std::cout << " (last task at epoch ms " << *done.last_task_completed_time << ")";
  std::cout << "\n";
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: erase_user ORGANIZATION_ID USER_ID...\n";
    return 2;
  }
  auto options = options_from_environment();
  if (!options) return 2;
  asio::io_context io;
  int status = 0;
  try {
    velt::client client(io.get_executor(), *options);
    asio::co_spawn(io, erase(client, argv[1], std::vector<std::string>(argv + 2, argv + argc)),
                   [&](std::exception_ptr e) {
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
