#include "controlplane/controllers/work_queue.h"

#include <thread>

#include "absl/time/clock.h"

#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  WorkQueue q;
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "ns/a");
  EXPECT_EQ(q.Get(), "ns/b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingComesBackAfterDone) {
  WorkQueue q;
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 0u) << "a key being processed is never handed to a second worker";
  q.Done("ns/a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "ns/a");
  q.Done("ns/a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AddAfterWaitsForItsTime) {
  WorkQueue q;
  absl::Time start = absl::Now();
  q.AddAfter("ns/late", absl::Milliseconds(80));
  q.AddAfter("ns/late", absl::Seconds(10));  // the earlier time wins
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), "ns/late");
  absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(80));
  EXPECT_LT(waited, absl::Seconds(5));
}

TEST(WorkQueueTest, EarlierDelayedKeyWakesAWaitingWorker) {
  WorkQueue q;
  q.AddAfter("ns/slow", absl::Seconds(30));
  std::optional<std::string> got;
  std::thread worker([&] { got = q.Get(); });
  absl::Time start = absl::Now();
  q.AddAfter("ns/fast", absl::Milliseconds(20));
  worker.join();
  EXPECT_EQ(got, "ns/fast");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(WorkQueueTest, RateLimitedBackOffDoublesAndForgetResets) {
  WorkQueue q(WorkQueueOptions{absl::Milliseconds(20), absl::Milliseconds(60)});
  for (int i = 0; i < 4; ++i) {
    absl::Time start = absl::Now();
    q.AddRateLimited("ns/x");
    ASSERT_EQ(q.Get(), "ns/x");
    q.Done("ns/x");
    absl::Duration expected = std::min(absl::Milliseconds(20) * (1 << i), absl::Milliseconds(60));
    EXPECT_GE(absl::Now() - start, expected) << "retry " << i;
  }
  EXPECT_EQ(q.Failures("ns/x"), 4);
  q.Forget("ns/x");
  EXPECT_EQ(q.Failures("ns/x"), 0);
}

TEST(WorkQueueTest, ShutDownWakesWorkersAndDropsAdds) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  q.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 0u);
}

}  // namespace
}  // namespace berth::controllers
