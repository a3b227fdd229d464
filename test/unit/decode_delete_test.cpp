// SPDX-License-Identifier: BSL-1.0
// decode_delete_job (both documented envelopes) and decode_delete_status.
#include "wire_test_support.hpp"

#include <velt/wire.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using velt::errc;
using velt::test::fixed_now;
using velt::test::response;

velt::result<velt::delete_job> job(unsigned status, std::string_view body) {
  return velt::wire::decode_delete_job(response(status, body), {}, fixed_now);
}

velt::result<velt::delete_status> status_of(unsigned status, std::string_view body) {
  return velt::wire::decode_delete_status(response(status, body), {}, fixed_now);
}

template <class T>
void expect_malformed(velt::result<T> const& r, std::string_view needle) {
  ASSERT_FALSE(r.has_value()) << "expected an error mentioning " << needle;
  EXPECT_EQ(r.error().code, velt::make_error_code(errc::malformed_response));
  EXPECT_EQ(r.error().status, velt::status::internal);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(WireDecodeDeleteJob, TopLevelEnvelope) {
  auto const j = job(200, R"({"status": "success", "message": "Data deletion process has been initiated.",
 "data": {"jobId": "dsQuvPmIynANgPLLEhCm", "tasksCount": 5}, "statusCode": 202})");
  ASSERT_TRUE(j.has_value()) << j.error().to_string();
  EXPECT_EQ(j->job_id, "dsQuvPmIynANgPLLEhCm");
  ASSERT_TRUE(j->tasks_count.has_value());
  EXPECT_EQ(*j->tasks_count, 5);
  EXPECT_EQ(j->message, "Data deletion process has been initiated.");
}

TEST(WireDecodeDeleteJob, ResultEnvelope) {
  auto const j = job(200, R"({"result": {"status": "success", "message": "User data deletion job queued.",
 "data": {"jobId": "dsQuvPmIynANgPLLEhCm"}}})");
  ASSERT_TRUE(j.has_value()) << j.error().to_string();
  EXPECT_EQ(j->job_id, "dsQuvPmIynANgPLLEhCm");
  EXPECT_FALSE(j->tasks_count.has_value());
  EXPECT_EQ(j->message, "User data deletion job queued.");
}

TEST(WireDecodeDeleteJob, Http202IsSuccess) {
  auto const j = job(202, R"({"status":"success","data":{"jobId":"j1","tasksCount":0},"statusCode":202})");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->job_id, "j1");
  EXPECT_EQ(j->tasks_count, 0);
  EXPECT_EQ(j->message, "");
}

TEST(WireDecodeDeleteJob, TasksCountForms) {
  // An integral double is the same number in JavaScript.
  EXPECT_EQ(job(200, R"({"result":{"data":{"jobId":"j","tasksCount":5.0}}})")->tasks_count, 5);
  EXPECT_EQ(job(200, R"({"result":{"data":{"jobId":"j","tasksCount":null}}})")->tasks_count,
            std::nullopt);
  EXPECT_EQ(job(200, R"({"result":{"data":{"jobId":"j","tasksCount":4294967297}}})")->tasks_count,
            4294967297);
  // An unreadable tasksCount is left out: the job is queued, and its jobId must not be lost
  // over an informational field.
  for (char const* bad : {"5.5", "\"5\"", "-1", "1e300", "{}", "[5]", "true"}) {
    auto const j = job(200, std::string(R"({"result":{"data":{"jobId":"j","tasksCount":)") + bad + "}}}");
    ASSERT_TRUE(j.has_value()) << bad << ": " << j.error().to_string();
    EXPECT_EQ(j->job_id, "j") << bad;
    EXPECT_EQ(j->tasks_count, std::nullopt) << bad;
  }
}

TEST(WireDecodeDeleteJob, JobIdRequired) {
  expect_malformed(job(200, R"({"result":{"status":"success","data":{}}})"), R"(no "jobId")");
  expect_malformed(job(200, R"({"result":{"data":{"jobId":""}}})"), R"("jobId" is empty)");
  expect_malformed(job(200, R"({"result":{"data":{"jobId":12345}}})"),
                   R"("jobId" is a number, not a string)");
  expect_malformed(job(200, R"({"result":{"data":{"jobId":null}}})"), R"("jobId" is null)");
  expect_malformed(job(200, R"({"status":"success","data":{"tasksCount":5},"statusCode":202})"),
                   R"(no "jobId")");
}

TEST(WireDecodeDeleteJob, EnvelopeRequired) {
  expect_malformed(job(200, R"({"status":"success","message":"queued"})"),
                   R"(neither a "result" object nor a top-level "data")");
  expect_malformed(job(200, R"({"result":{"status":"success"}})"), R"(no "data" object)");
  expect_malformed(job(200, R"({"result":{"data":"dsQuvPmIynANgPLLEhCm"}})"),
                   R"("data" is a string)");
  expect_malformed(job(200, R"({"result":[1]})"), R"("result" is an array)");
  expect_malformed(job(200, R"(["jobId"])"), "not a JSON object");
  expect_malformed(job(200, "Accepted"), "not valid JSON");
  expect_malformed(job(202, R"({"status":"success","data":{"jobId":"j")"), "not valid JSON");
}

TEST(WireDecodeDeleteJob, StatusOtherThanSuccess) {
  expect_malformed(
      job(200, R"({"status":"failed","message":"Deletion could not start","data":{},"statusCode":500})"),
      R"(status is "failed", not "success": Deletion could not start)");
}

TEST(WireDecodeDeleteJob, ErrorResponses) {
  auto const r = job(500, R"({"error":{"message":"userIds is required","status":"INVALID_ARGUMENT","code":500}})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, velt::status::invalid_argument);
  EXPECT_EQ(r.error().message, "userIds is required");
  EXPECT_EQ(r.error().http_status, 500u);
  EXPECT_FALSE(velt::is_retryable(r.error().status));

  auto const gw = job(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>");
  ASSERT_FALSE(gw.has_value());
  EXPECT_EQ(gw.error().status, velt::status::deadline_exceeded);
  EXPECT_EQ(gw.error().message, "HTTP 504 Gateway Timeout: 504 Gateway Time-out");
}

TEST(WireDecodeDeleteStatus, DocumentedShape) {
  auto const s = status_of(200, R"({"result": {"status": "success", "message": "Data fetched successfully.",
 "data": {"isDeleteCompleted": true, "tasksLeft": 0, "lastTaskCompletedTime": 1748972106739}}})");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_TRUE(s->is_delete_completed);
  EXPECT_EQ(s->tasks_left, 0);
  ASSERT_TRUE(s->last_task_completed_time.has_value());
  EXPECT_EQ(*s->last_task_completed_time, 1748972106739);  // above 2^32, exact
}

TEST(WireDecodeDeleteStatus, InProgress) {
  auto const s = status_of(200, R"({"result":{"status":"success","data":{"isDeleteCompleted":false,"tasksLeft":3}}})");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->is_delete_completed);
  EXPECT_EQ(s->tasks_left, 3);
  EXPECT_FALSE(s->last_task_completed_time.has_value());
  auto const n = status_of(200, R"({"result":{"data":{"isDeleteCompleted":false,"tasksLeft":2,"lastTaskCompletedTime":null}}})");
  ASSERT_TRUE(n.has_value());
  EXPECT_FALSE(n->last_task_completed_time.has_value());
}

TEST(WireDecodeDeleteStatus, TopLevelEnvelopeAccepted) {
  auto const s = status_of(200, R"({"status":"success","data":{"isDeleteCompleted":false,"tasksLeft":4},"statusCode":200})");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->tasks_left, 4);
}

TEST(WireDecodeDeleteStatus, TasksLeftMissing) {
  // Missing is 0 only for a completed job ...
  auto const done = status_of(200, R"({"result":{"data":{"isDeleteCompleted":true}}})");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->tasks_left, 0);
  // ... otherwise progress is unknown, which is an error rather than a guess.
  expect_malformed(status_of(200, R"({"result":{"data":{"isDeleteCompleted":false}}})"),
                   R"(no "tasksLeft")");
  expect_malformed(
      status_of(200, R"({"result":{"data":{"isDeleteCompleted":false,"tasksLeft":null}}})"),
      R"(no "tasksLeft")");
}

TEST(WireDecodeDeleteStatus, FieldTypes) {
  expect_malformed(status_of(200, R"({"result":{"data":{"tasksLeft":0}}})"),
                   R"(no "isDeleteCompleted")");
  expect_malformed(status_of(200, R"({"result":{"data":{"isDeleteCompleted":"true","tasksLeft":0}}})"),
                   R"("isDeleteCompleted" is a string, not a boolean)");
  expect_malformed(status_of(200, R"({"result":{"data":{"isDeleteCompleted":1,"tasksLeft":0}}})"),
                   R"("isDeleteCompleted" is a number)");
  expect_malformed(status_of(200, R"({"result":{"data":{"isDeleteCompleted":false,"tasksLeft":"3"}}})"),
                   R"("tasksLeft" is a string)");
  expect_malformed(status_of(200, R"({"result":{"data":{"isDeleteCompleted":false,"tasksLeft":-2}}})"),
                   R"("tasksLeft" is negative)");
  // An unreadable lastTaskCompletedTime is left out: it is informational.
  auto const iso = status_of(
      200, R"({"result":{"data":{"isDeleteCompleted":true,"tasksLeft":0,"lastTaskCompletedTime":"2025-06-03T17:35:06Z"}}})");
  ASSERT_TRUE(iso.has_value()) << iso.error().to_string();
  EXPECT_TRUE(iso->is_delete_completed);
  EXPECT_EQ(iso->last_task_completed_time, std::nullopt);
  // Epoch milliseconds written as an integral double are the same instant.
  auto const d = status_of(200, R"({"result":{"data":{"isDeleteCompleted":true,"tasksLeft":0.0,"lastTaskCompletedTime":1.748972106739e12}}})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->last_task_completed_time, 1748972106739);
  EXPECT_EQ(d->tasks_left, 0);
}

TEST(WireDecodeDeleteStatus, MissingData) {
  expect_malformed(status_of(200, R"({"result":{"status":"success","message":"Data fetched successfully."}})"),
                   R"(no "data" object)");
  expect_malformed(status_of(200, ""), "empty");
}

TEST(WireDecodeDeleteStatus, NotFoundError) {
  auto const r = status_of(404, R"({"error":{"message":"Job not found","status":"NOT_FOUND"}})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, velt::status::not_found);
  EXPECT_EQ(r.error().message, "Job not found");
  EXPECT_EQ(r.error().to_string(), "NOT_FOUND (HTTP 404): Job not found");
}

}  // namespace
