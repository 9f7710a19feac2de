#include "controlplane/controllers/job_math.h"

#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(JobMathTest, CompletionsAndParallelism) {
  JobSpecCounts spec{.completions = 5, .parallelism = 2};
  EXPECT_EQ(DecideJob(spec, {.active = 0, .succeeded = 0}, kNow).want_active, 2);
  EXPECT_EQ(DecideJob(spec, {.active = 2, .succeeded = 4}, kNow).want_active, 1);
  JobDecision done = DecideJob(spec, {.active = 0, .succeeded = 5}, kNow);
  EXPECT_EQ(done.finished, "Complete");
  EXPECT_EQ(done.want_active, 0);
}

TEST(JobMathTest, WorkQueueStopsStartingOnceOneSucceeded) {
  JobSpecCounts spec{.parallelism = 3};
  EXPECT_EQ(DecideJob(spec, {}, kNow).want_active, 3);
  JobDecision draining = DecideJob(spec, {.active = 2, .succeeded = 1}, kNow);
  EXPECT_EQ(draining.finished, "");
  EXPECT_EQ(draining.want_active, 2);
  EXPECT_EQ(DecideJob(spec, {.active = 0, .succeeded = 1}, kNow).finished, "Complete");
}

TEST(JobMathTest, BackoffLimitAndDeadlineFailTheJob) {
  JobSpecCounts spec{.completions = 1, .backoff_limit = 2, .active_deadline_seconds = 60};
  EXPECT_EQ(DecideJob(spec, {.failed = 2, .start_time = kNow}, kNow).finished, "");
  JobDecision failed = DecideJob(spec, {.active = 1, .failed = 3, .start_time = kNow}, kNow);
  EXPECT_EQ(failed.finished, "Failed");
  EXPECT_EQ(failed.reason, "BackoffLimitExceeded");
  EXPECT_EQ(failed.want_active, 0);
  JobDecision late = DecideJob(spec, {.active = 1, .start_time = kNow - absl::Seconds(60)}, kNow);
  EXPECT_EQ(late.reason, "DeadlineExceeded");
}

TEST(JobMathTest, BackoffDoublesToSixMinutesAndTtlDeletes) {
  EXPECT_EQ(PodFailureBackoff(0), absl::ZeroDuration());
  EXPECT_EQ(PodFailureBackoff(1), absl::Seconds(10));
  EXPECT_EQ(PodFailureBackoff(3), absl::Seconds(40));
  EXPECT_EQ(PodFailureBackoff(20), absl::Minutes(6));
  EXPECT_FALSE(TtlDeletionTime({}, kNow).has_value());
  EXPECT_EQ(*TtlDeletionTime({.ttl_seconds_after_finished = 100}, kNow), kNow + absl::Seconds(100));
}

}  // namespace
}  // namespace berth::controllers
