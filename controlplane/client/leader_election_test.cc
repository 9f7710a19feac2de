#include "controlplane/client/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>

#include "controlplane/client/local_api_test_env.h"

namespace berth::client {
namespace {

using nlohmann::json;

LeaderElectionOptions Fast(const std::string& identity) {
  LeaderElectionOptions o;
  o.lease_name = "test-lease";
  o.identity = identity;
  o.lease_duration = absl::Milliseconds(1500);  // rounded up to 2 s in the Lease
  o.renew_deadline = absl::Seconds(1);
  o.retry_period = absl::Milliseconds(100);
  return o;
}

// Counts leaders across electors: never more than one at a time.
struct Leaders {
  std::atomic<int> now{0};
  std::atomic<int> max{0};
  LeaderCallbacks For(std::atomic<int>* started, std::atomic<int>* stopped) {
    LeaderCallbacks c;
    c.on_started_leading = [this, started] {
      int n = ++now;
      int m = max.load();
      while (n > m && !max.compare_exchange_weak(m, n)) {
      }
      ++*started;
    };
    c.on_stopped_leading = [this, stopped] {
      --now;
      ++*stopped;
    };
    return c;
  }
};

bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));  // the test's own condition, with a deadline
  }
  return true;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.error().ok()) << env_.error(); }
  ApiClient* client() { return env_.client(); }
  LocalApiTestEnv env_;
};

TEST_F(LeaderElectionTest, OneOfTwoLeadsAndTheOtherTakesOverOnRelease) {
  Leaders leaders;
  std::atomic<int> a_started{0}, a_stopped{0}, b_started{0}, b_stopped{0};
  auto a = LeaderElector::Create(client(), Fast("a"), leaders.For(&a_started, &a_stopped));
  auto b = LeaderElector::Create(client(), Fast("b"), leaders.For(&b_started, &b_stopped));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*a)->IsLeader(); }, absl::Seconds(10)));
  (*b)->Start();
  // b keeps trying for a while and must not win while a renews.
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_FALSE((*b)->IsLeader());
  EXPECT_EQ((*b)->CurrentLeader(), "a");
  auto lease = client()->Get(resources::kLeases, "kube-system", "test-lease");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "a");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 2);
  EXPECT_FALSE((*lease)["spec"].value("renewTime", "").empty());

  absl::Time stopped_at = absl::Now();
  (*a)->Stop();
  EXPECT_EQ(a_stopped.load(), 1);
  // Released: b takes it at its next try, well before the lease would expire.
  ASSERT_TRUE(WaitUntil([&] { return (*b)->IsLeader(); }, absl::Seconds(10)));
  EXPECT_LT(absl::Now() - stopped_at, absl::Milliseconds(1500));
  lease = client()->Get(resources::kLeases, "kube-system", "test-lease");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ(leaders.max.load(), 1);
  (*b)->Stop();
  EXPECT_EQ(b_started.load(), 1);
  EXPECT_EQ(b_stopped.load(), 1);
}

TEST_F(LeaderElectionTest, AHolderThatStopsRenewingIsReplacedAfterTheLeaseDuration) {
  Leaders leaders;
  std::atomic<int> a_started{0}, a_stopped{0}, b_started{0}, b_stopped{0};
  LeaderElectionOptions crash = Fast("a");
  crash.release_on_stop = false;  // as a killed process
  auto a = LeaderElector::Create(client(), crash, leaders.For(&a_started, &a_stopped));
  auto b = LeaderElector::Create(client(), Fast("b"), leaders.For(&b_started, &b_stopped));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*a)->IsLeader(); }, absl::Seconds(10)));
  (*b)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*b)->CurrentLeader() == "a"; }, absl::Seconds(10)));
  absl::Time stopped_at = absl::Now();
  (*a)->Stop();
  ASSERT_TRUE(WaitUntil([&] { return (*b)->IsLeader(); }, absl::Seconds(10)));
  // Not before the 2 s lease (from b's last sight of a renewal) ran out.
  EXPECT_GE(absl::Now() - stopped_at, absl::Milliseconds(1500));
  auto lease = client()->Get(resources::kLeases, "kube-system", "test-lease");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaderElectionTest, ALeaderThatCannotRenewStopsLeading) {
  std::atomic<int> started{0}, stopped{0};
  Leaders leaders;
  auto a = LeaderElector::Create(client(), Fast("a"), leaders.For(&started, &stopped));
  ASSERT_TRUE(a.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*a)->IsLeader(); }, absl::Seconds(10)));
  // Someone else writes the Lease with a long duration: a cannot renew.
  auto lease = client()->Get(resources::kLeases, "kube-system", "test-lease");
  ASSERT_TRUE(lease.ok());
  (*lease)["spec"]["holderIdentity"] = "intruder";
  (*lease)["spec"]["leaseDurationSeconds"] = 60;
  (*lease)["metadata"].erase("resourceVersion");
  ASSERT_TRUE(client()->Update(resources::kLeases, "kube-system", *lease).ok());
  ASSERT_TRUE(WaitUntil([&] { return stopped.load() == 1; }, absl::Seconds(10)));
  EXPECT_FALSE((*a)->IsLeader());
  EXPECT_EQ((*a)->CurrentLeader(), "intruder");
}

TEST_F(LeaderElectionTest, BadOptionsAreRefusedNamingThem) {
  LeaderElectionOptions o = Fast("a");
  o.renew_deadline = absl::Seconds(5);  // > lease duration
  auto bad = LeaderElector::Create(client(), o, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("leaseDuration"), absl::string_view::npos) << bad.status();
  o = Fast("");
  bad = LeaderElector::Create(client(), o, {});
  EXPECT_NE(bad.status().message().find("identity"), absl::string_view::npos) << bad.status();
  EXPECT_FALSE(LeaderElector::DefaultIdentity().empty());
}

}  // namespace
}  // namespace berth::client
