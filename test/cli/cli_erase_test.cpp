// SPDX-License-Identifier: BSL-1.0
// velt-gdpr erase and erase-status against the local server.
#include "cli_support.hpp"

#include <boost/json/parse.hpp>

#include <csignal>

namespace velt::test::cli {
namespace {

std::vector<boost::json::object> json_lines(std::string const& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::json::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
    if (!ec && v.is_object()) out.push_back(std::move(v.get_object()));
  }
  return out;
}

std::vector<boost::json::object> events(std::vector<boost::json::object> const& lines, char const* name) {
  std::vector<boost::json::object> out;
  for (auto const& l : lines) {
    if (l.at("event") == name) out.push_back(l);
  }
  return out;
}

TEST(CliErase, WaitAndVerifyLeaveNothing) {
  auto so = small_server(10);
  mock::server srv(so);
  auto const users = srv.user_ids();
  std::vector<std::string> const erased(users.begin(), users.begin() + 7);
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--users-file", users_file(dir, erased).string(), "--batch-size", "3",
                                            "--wait", "--verify", "--poll-interval", "0.05"}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const lines = json_lines(r.out);
  auto const queued = events(lines, "queued");
  ASSERT_EQ(queued.size(), 3u);  // 3 + 3 + 1
  std::set<std::string> ids_in_jobs, job_ids;
  for (auto const& q : queued) {
    job_ids.insert(std::string(q.at("jobId").as_string()));
    for (auto const& id : q.at("userIds").as_array()) ids_in_jobs.insert(std::string(id.as_string()));
  }
  EXPECT_EQ(ids_in_jobs, std::set<std::string>(erased.begin(), erased.end()));
  auto const completed = events(lines, "completed");
  ASSERT_EQ(completed.size(), 3u);
  for (auto const& c : completed) {
    EXPECT_TRUE(job_ids.count(std::string(c.at("jobId").as_string())));
    EXPECT_EQ(c.at("tasksLeft"), 0);
  }
  auto const verified = events(lines, "verified");
  ASSERT_EQ(verified.size(), 1u);
  EXPECT_EQ(verified[0].at("users"), 7);
  EXPECT_EQ(verified[0].at("usersWithData"), 0);
  EXPECT_TRUE(events(lines, "remaining").empty());
  EXPECT_NE(r.err.find("no data left"), std::string::npos) << r.err;
  for (auto const& s : srv.user_summaries()) {
    bool const should = std::find(erased.begin(), erased.end(), s.user_id) != erased.end();
    EXPECT_EQ(s.deleted, should) << s.user_id;
  }
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 3u);

  // erase-status prints one JSON line per job.
  std::vector<std::string> args = command("erase-status", srv);
  args.erase(args.begin() + 2, args.begin() + 4);  // erase-status takes no --org
  args.insert(args.end(), job_ids.begin(), job_ids.end());
  auto const status = run(args, credentials_env(srv));
  ASSERT_EQ(status.code, 0) << status.err;
  auto const statuses = json_lines(status.out);
  ASSERT_EQ(statuses.size(), job_ids.size());
  for (auto const& s : statuses) {
    EXPECT_TRUE(job_ids.count(std::string(s.at("jobId").as_string())));
    EXPECT_EQ(s.at("isDeleteCompleted"), true);
    EXPECT_EQ(s.at("tasksLeft"), 0);
    EXPECT_TRUE(s.at("lastTaskCompletedTime").is_int64() || s.at("lastTaskCompletedTime").is_uint64());
  }
}

TEST(CliErase, WithoutWaitOnlyQueues) {
  auto so = small_server(4);
  so.delete_task_duration = std::chrono::milliseconds(2000);
  mock::server srv(so);
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--user", srv.user_ids()[0], "--user", srv.user_ids()[1]}),
                     credentials_env(srv));
  ASSERT_EQ(r.code, 0) << r.err;
  auto const lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("event"), "queued");
  EXPECT_EQ(lines[0].at("users"), 2);
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_status), 0u);
}

TEST(CliErase, StatusOfAnUnknownJobExitsThree) {
  mock::server srv(small_server(2));
  std::vector<std::string> args = command("erase-status", srv);
  args.erase(args.begin() + 2, args.begin() + 4);
  args.push_back("no-such-job");
  auto const r = run(args, credentials_env(srv));
  EXPECT_EQ(r.code, 3);
  auto const lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("jobId"), "no-such-job");
  EXPECT_EQ(lines[0].at("error").at("status"), "NOT_FOUND");
}

// The deletion request naming `user` is answered with an error envelope at `http_status`.
mock::fault deletion_answered(unsigned http_status, std::string const& user) {
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = http_status;
  f.endpoint = wire::endpoint::delete_user_data;
  f.user_id = user;
  return f;
}

TEST(CliErase, AFailedDeletionRequestExitsThree) {
  mock::server srv(small_server(6));
  auto const users = srv.user_ids();
  srv.add_fault(deletion_answered(500, users[4]));
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--users-file", users_file(dir, users).string(), "--batch-size", "2",
                                            "--wait", "--poll-interval", "0.05"}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  auto const lines = json_lines(r.out);
  EXPECT_EQ(events(lines, "queued").size(), 2u);
  EXPECT_EQ(events(lines, "completed").size(), 2u);
  auto const failed = events(lines, "failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].at("userIds").as_array().size(), 2u);
  EXPECT_EQ(failed[0].at("error").at("httpStatus"), 500);
  // A 500 does not say the job was not queued (a gateway may have given up while the API
  // went on): the user is told to check before retrying.
  EXPECT_EQ(failed[0].at("error").at("maybeQueued"), true);
  // A deletion is never resent once it may have reached the server.
  EXPECT_EQ(srv.stats().requests_to(wire::endpoint::delete_user_data), 3u);
}

TEST(CliErase, ADeletionTheServerRefusedWasNotQueued) {
  mock::server srv(small_server(4));
  auto const users = srv.user_ids();
  srv.add_fault(deletion_answered(400, users[2]));
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--users-file", users_file(dir, users).string(), "--batch-size", "2"}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  auto const failed = events(json_lines(r.out), "failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].at("error").at("httpStatus"), 400);
  EXPECT_EQ(failed[0].at("error").at("maybeQueued"), false);  // a 4xx refusal: nothing queued
  EXPECT_EQ(r.err.find("may have been queued"), std::string::npos) << r.err;
}

TEST(CliErase, VerifyThatCannotCheckExitsThree) {
  mock::server srv(small_server(3));
  auto const users = srv.user_ids();
  mock::fault f;
  f.kind = mock::fault_kind::http_error_json;
  f.http_status = 503;
  f.endpoint = wire::endpoint::get_user_data;
  f.user_id = users[0];
  srv.add_fault(f);
  temp_dir dir;
  // 503 for this user alone: the verification waits for its patience, then gives up.
  auto const r = run(erase_command(srv, dir, {"--user", users[0], "--verify", "--poll-interval", "0.05",
                                            "--max-attempts", "1", "--max-stall", "1s"}),
                     credentials_env(srv));
  EXPECT_EQ(r.code, 3) << r.err;
  auto const lines = json_lines(r.out);
  ASSERT_EQ(events(lines, "unverified").size(), 1u);
  EXPECT_EQ(events(lines, "verified").at(0).at("usersUnverified"), 1);
}

TEST(CliErase, SigintWhileWaitingExits130Promptly) {
  auto so = small_server(4);
  so.delete_task_duration = std::chrono::milliseconds(3000);
  mock::server srv(so);
  temp_dir dir;
  process p(erase_command(srv, dir, {"--user", srv.user_ids()[0], "--wait", "--poll-interval", "0.1"}),
            credentials_env(srv));
  ASSERT_TRUE(eventually([&] {
    p.pump(std::chrono::milliseconds(10));
    return p.out().find("\"queued\"") != std::string::npos;
  })) << p.err();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // polling now
  auto const sent = std::chrono::steady_clock::now();
  p.signal(SIGINT);
  auto const code = p.wait(std::chrono::seconds(10));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 130) << p.err();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(2));
  auto const lines = json_lines(p.out());
  EXPECT_EQ(events(lines, "queued").size(), 1u);  // the job id is on record
  EXPECT_TRUE(events(lines, "completed").empty());
}

TEST(CliErase, WrongCredentialsStopAtTheFirstRequest) {
  mock::server srv(small_server(10));
  temp_dir dir;
  auto const r = run(erase_command(srv, dir, {"--users-file", users_file(dir, srv.user_ids()).string(), "--batch-size",
                                            "1", "--concurrency", "2"}),
                     {"VELT_API_KEY=wrong", "VELT_AUTH_TOKEN=wrong"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("refused the credentials"), std::string::npos) << r.err;
  EXPECT_LE(srv.stats().requests_to(wire::endpoint::delete_user_data), 2u);
}

}  // namespace
}  // namespace velt::test::cli
