// SPDX-License-Identifier: BSL-1.0
// The sans-I/O rules of a batch run: refusals, token rejections, the credential stop.
#include "batch/run_rules.hpp"

#include <gtest/gtest.h>

namespace velt::test::batch {
namespace {

using velt::detail::credential_watch;
using verdict = credential_watch::verdict;

TEST(BatchRules, RefusalsAreTheTwoCredentialStatuses) {
  EXPECT_TRUE(detail::is_refusal(status::permission_denied));
  EXPECT_TRUE(detail::is_refusal(status::unauthenticated));
  EXPECT_FALSE(detail::is_refusal(status::invalid_argument));
  EXPECT_FALSE(detail::is_refusal(status::resource_exhausted));
}

TEST(BatchRules, ATokenIsRejectedByTheFourBadRequestStatuses) {
  for (auto s : {status::invalid_argument, status::not_found, status::failed_precondition, status::out_of_range})
    EXPECT_TRUE(detail::is_token_rejection(s)) << to_string(s);
  for (auto s : {status::unavailable, status::internal, status::permission_denied, status::resource_exhausted})
    EXPECT_FALSE(detail::is_token_rejection(s)) << to_string(s);
}

TEST(BatchRules, ARefusalBeforeAnyPageWaitsForEvidence) {
  credential_watch w(32);
  EXPECT_EQ(w.on_failure(status::invalid_argument), verdict::user_failure);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::wait);
  EXPECT_EQ(w.pending(/*evidence_possible=*/true), verdict::wait);
  w.on_page();  // another user's page: the credentials work
  EXPECT_EQ(w.pending(true), verdict::user_failure);
  EXPECT_TRUE(w.any_page());
}

TEST(BatchRules, WithoutAnyChanceOfEvidenceTheCredentialsAreRefused) {
  credential_watch w(32);
  EXPECT_EQ(w.on_failure(status::unauthenticated), verdict::wait);
  EXPECT_EQ(w.pending(/*evidence_possible=*/false), verdict::stop_run);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::stop_run);  // decided
}

TEST(BatchRules, ARefusedProbeStopsTheRun) {
  credential_watch w(32);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::wait);
  w.on_probe_refused();
  EXPECT_EQ(w.pending(true), verdict::stop_run);
  EXPECT_FALSE(w.any_page());
}

TEST(BatchRules, ThreeRefusalsInARowBeforeAnyEvidenceStopTheRun) {
  credential_watch w(32);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::wait);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::wait);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::stop_run);
  EXPECT_EQ(w.pending(true), verdict::stop_run);  // the users waiting learn it too
  credential_watch two(2);  // never more than refusals_that_stop
  EXPECT_EQ(two.on_failure(status::permission_denied), verdict::wait);
  EXPECT_EQ(two.on_failure(status::permission_denied), verdict::stop_run);
}

TEST(BatchRules, AfterPagesOnlyARunOfRefusalsStopsTheRun) {
  credential_watch w(3);
  w.on_page();
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::user_failure);
  EXPECT_EQ(w.on_failure(status::unauthenticated), verdict::user_failure);
  w.on_page();  // a page in between: the count starts again
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::user_failure);
  EXPECT_EQ(w.on_failure(status::internal), verdict::user_failure);  // not a refusal: no reset, no count
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::user_failure);
  EXPECT_EQ(w.on_failure(status::permission_denied), verdict::stop_run);
  EXPECT_TRUE(w.any_page());
}

TEST(BatchRules, ZeroNeverStops) {
  credential_watch w(0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(w.on_failure(status::unauthenticated), verdict::user_failure);
}

}  // namespace
}  // namespace velt::test::batch
