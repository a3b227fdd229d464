// SPDX-License-Identifier: BSL-1.0
// The deletion lifecycle: queue, progress, completion, data gone; both success envelopes.
#include "test_client.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace velt::mock {
namespace {

using namespace std::chrono_literals;
using testing::get_body;
using testing::reply;
using testing::test_client;
using testing::walk_export;
namespace json = boost::json;

server_options delete_options(delete_envelope shape) {
  server_options o;
  o.data.users = 6;
  o.data.empty_user_fraction = 0;
  o.data.min_items = 10;
  o.delete_tasks = 3;
  o.delete_task_duration = 400ms;  // long enough for the checks before completion, even under sanitizers
  o.delete_shape = shape;
  return o;
}

std::string delete_body(std::vector<std::string> const& users, std::vector<std::string> const& orgs = {}) {
  json::object data;
  data["userIds"] = json::value_from(users);
  if (!orgs.empty()) data["organizationIds"] = json::value_from(orgs);
  return json::serialize(json::object{{"data", data}});
}

json::object status_of(test_client& c, std::string const& job) {
  reply const r = c.post("/v2/users/data/delete/status", R"({"data":{"jobId":")" + job + R"("}})");
  EXPECT_EQ(r.status, 200u) << r.body;
  return r.json().at("result").at("data").as_object();
}

/// Polls until the job completes; checks that progress only moves forward.
json::object wait_completed(test_client& c, std::string const& job) {
  std::int64_t left = 1 << 30;
  auto const deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    json::object s = status_of(c, job);
    std::int64_t const now_left = s.at("tasksLeft").as_int64();
    EXPECT_LE(now_left, left);
    left = now_left;
    if (s.at("isDeleteCompleted").as_bool()) {
      EXPECT_EQ(now_left, 0);
      return s;
    }
    EXPECT_GT(now_left, 0);
    std::this_thread::sleep_for(25ms);
  }
  ADD_FAILURE() << "deletion did not complete";
  return {};
}

TEST(MockDelete, LifecycleWithResultEnvelope) {
  server srv(delete_options(delete_envelope::result));
  test_client c(srv);
  std::string const victim = "user-0002", bystander = "user-0004";
  auto const before = walk_export(c, srv, victim);
  ASSERT_GT(before.merged.at("comments").as_array().size(), 0u);
  std::string const token = before.tokens.empty() ? "" : before.tokens.front();

  reply const r = c.post("/v2/users/data/delete", delete_body({victim}, {"org-1"}));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto const result = r.json().at("result").as_object();
  EXPECT_EQ(result.at("status"), "success");
  EXPECT_FALSE(result.at("data").as_object().contains("tasksCount"));
  std::string const job(result.at("data").at("jobId").as_string());

  json::object const first = status_of(c, job);
  EXPECT_FALSE(first.at("isDeleteCompleted").as_bool());
  EXPECT_GE(first.at("tasksLeft").as_int64(), 1);
  EXPECT_LE(first.at("tasksLeft").as_int64(), 3);
  EXPECT_EQ(walk_export(c, srv, victim).merged, before.merged) << "data stays until the job completes";

  json::object const done = wait_completed(c, job);
  std::int64_t const last = done.at("lastTaskCompletedTime").as_int64();
  auto const now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(last, std::int64_t{1} << 32);
  EXPECT_LE(last, now_ms);
  EXPECT_GT(last, now_ms - 10'000);

  auto const after = walk_export(c, srv, victim);
  EXPECT_EQ(after.bodies.size(), 1u);
  for (auto const& [k, v] : after.merged) EXPECT_TRUE(v.as_array().empty()) << k;
  EXPECT_EQ(after.merged, srv.expected_export(victim));
  EXPECT_EQ(srv.expected_pages(victim), 1u);
  EXPECT_TRUE(srv.user_summaries()[1].deleted);
  if (!token.empty()) {
    reply const late = c.post("/v2/users/data/get", get_body("org-1", victim, token));
    EXPECT_EQ(late.status, 200u) << "an old token of a deleted user gives the empty last page";
    EXPECT_TRUE(late.json().at("result").at("data").at("comments").as_array().empty());
  }
  EXPECT_GT(walk_export(c, srv, bystander).merged.at("comments").as_array().size(), 0u);
}

TEST(MockDelete, StatusCodeEnvelope) {
  server srv(delete_options(delete_envelope::status_code));
  test_client c(srv);
  reply const r = c.post("/v1/users/data/delete", delete_body({"user-0001", "user-0003"}));
  ASSERT_EQ(r.status, 202u) << r.body;
  auto const body = r.json().as_object();
  EXPECT_FALSE(body.contains("result"));
  EXPECT_EQ(body.at("status"), "success");
  EXPECT_EQ(body.at("message"), "Data deletion process has been initiated.");
  EXPECT_EQ(body.at("statusCode"), 202);
  EXPECT_EQ(body.at("data").at("tasksCount"), 3);
  std::string const job(body.at("data").at("jobId").as_string());
  EXPECT_EQ(job.size(), 20u);
  wait_completed(c, job);
  for (auto const* u : {"user-0001", "user-0003"}) {
    for (auto const& [k, v] : walk_export(c, srv, u).merged) EXPECT_TRUE(v.as_array().empty()) << u << " " << k;
  }
}

TEST(MockDelete, AnotherOrganizationsDeletionKeepsOurData) {
  server srv(delete_options(delete_envelope::result));
  test_client c(srv);
  reply const r = c.post("/v2/users/data/delete", delete_body({"user-0001"}, {"org-2"}));
  std::string const job(r.json().at("result").at("data").at("jobId").as_string());
  wait_completed(c, job);
  EXPECT_GT(walk_export(c, srv, "user-0001").merged.at("comments").as_array().size(), 0u);
}

TEST(MockDelete, EveryDeleteQueuesANewJob) {
  auto o = delete_options(delete_envelope::result);
  o.delete_tasks = 0;
  server srv(o);
  test_client c(srv);
  auto job_of = [&] {
    reply const r = c.post("/v2/users/data/delete", delete_body({"user-0005"}));
    return std::string(r.json().at("result").at("data").at("jobId").as_string());
  };
  std::string const a = job_of(), b = job_of();
  EXPECT_NE(a, b) << "a retried delete is a second job";
  json::object const s = status_of(c, a);
  EXPECT_TRUE(s.at("isDeleteCompleted").as_bool());
  EXPECT_EQ(s.at("tasksLeft"), 0);
  EXPECT_EQ(srv.expected_pages("user-0005"), 1u);
}

}  // namespace
}  // namespace velt::mock
