#include "agent/pod/pod_workers.h"

#include <atomic>
#include <map>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return cond();
}

TEST(PodWorkersTest, OneRunPerPodAtATimeAndUpdatesCoalesce) {
  std::mutex mu;
  std::map<std::string, int> runs, active, max_active;
  std::atomic<bool> release{false};
  PodWorkers workers(4, [&](const std::string& uid) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++runs[uid];
      max_active[uid] = std::max(max_active[uid], ++active[uid]);
    }
    while (!release) absl::SleepFor(absl::Milliseconds(1));
    std::lock_guard<std::mutex> lock(mu);
    --active[uid];
  });
  workers.Enqueue("a");
  ASSERT_TRUE(WaitFor([&] { std::lock_guard<std::mutex> l(mu); return runs["a"] == 1; }, absl::Seconds(10)));
  for (int i = 0; i < 10; ++i) workers.Enqueue("a");  // while running: one more run
  workers.Enqueue("b");
  ASSERT_TRUE(WaitFor([&] { std::lock_guard<std::mutex> l(mu); return runs["b"] == 1; }, absl::Seconds(10)));
  release = true;
  ASSERT_TRUE(WaitFor([&] { return workers.Idle(); }, absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(runs["a"], 2);
  EXPECT_EQ(max_active["a"], 1);
  EXPECT_EQ(runs["b"], 1);
}

TEST(PodWorkersTest, EnqueueAfterRunsLater) {
  std::atomic<int> runs{0};
  absl::Time ran;
  PodWorkers workers(2, [&](const std::string&) {
    ran = absl::Now();
    ++runs;
  });
  absl::Time start = absl::Now();
  workers.EnqueueAfter("a", absl::Milliseconds(300));
  workers.EnqueueAfter("a", absl::Seconds(30));  // the earlier timer stays
  ASSERT_TRUE(WaitFor([&] { return runs == 1; }, absl::Seconds(10)));
  EXPECT_GE(ran - start, absl::Milliseconds(290));
  workers.Stop();
}

}  // namespace
}  // namespace berth::agent
