#include "controlplane/controllers/rollout_math.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

IntOrPercent Pct(int v) { return {true, v}; }
IntOrPercent Abs(int v) { return {false, v}; }

TEST(RolloutMathTest, IntOrPercentParsing) {
  EXPECT_TRUE(ParseIntOrPercent("25%", "maxSurge")->is_percent);
  EXPECT_EQ(ParseIntOrPercent("3", "maxSurge")->value, 3);
  EXPECT_EQ(std::string(ParseIntOrPercent("150%", "spec.strategy.rollingUpdate.maxSurge").status().message()),
            "spec.strategy.rollingUpdate.maxSurge: \"150%\" is not a non-negative integer or a percentage up to 100%");
  EXPECT_FALSE(ParseIntOrPercent("-1", "maxUnavailable").ok());
  EXPECT_FALSE(ParseIntOrPercent("x%", "maxUnavailable").ok());
}

TEST(RolloutMathTest, FencepostsRoundSurgeUpAndUnavailableDown) {
  // The defaults, 25% / 25%, on 10 replicas: 3 and 2.
  SurgeAndUnavailable d = ResolveFenceposts(Pct(25), Pct(25), 10);
  EXPECT_EQ(d.max_surge, 3);
  EXPECT_EQ(d.max_unavailable, 2);
  // 1 replica: surge 1, unavailable 0.
  d = ResolveFenceposts(Pct(25), Pct(25), 1);
  EXPECT_EQ(d.max_surge, 1);
  EXPECT_EQ(d.max_unavailable, 0);
  // Both zero would never progress: unavailable becomes 1.
  d = ResolveFenceposts(Abs(0), Pct(10), 5);
  EXPECT_EQ(d.max_surge, 0);
  EXPECT_EQ(d.max_unavailable, 1);
}

TEST(RolloutMathTest, NewReplicaSetGrowsByTheSurgeOnly) {
  SurgeAndUnavailable limits{3, 2};
  ReplicaSetCounts new_rs{"new", 200, 0, 0};
  std::vector<ReplicaSetCounts> old = {{"old", 100, 10, 10}};
  EXPECT_EQ(NewReplicaSetReplicas(10, limits, new_rs, old), 3);  // 10 + 3 total
  new_rs.replicas = 3;
  EXPECT_EQ(NewReplicaSetReplicas(10, limits, new_rs, old), 3);  // already at 13
  old[0].replicas = 6;
  EXPECT_EQ(NewReplicaSetReplicas(10, limits, new_rs, old), 7);
  old[0].replicas = 0;
  EXPECT_EQ(NewReplicaSetReplicas(10, limits, new_rs, old), 10);  // never past replicas
  new_rs.replicas = 12;
  EXPECT_EQ(NewReplicaSetReplicas(10, limits, new_rs, old), 10);
}

TEST(RolloutMathTest, OldReplicaSetsShrinkKeepingMinAvailableUnhealthyFirstOldestFirst) {
  SurgeAndUnavailable limits{3, 2};  // min available 8 of 10
  // New RS surged to 3, none available yet: 13 pods, 10 available; the old
  // one may lose 2 (available 10 -> 8).
  ReplicaSetCounts new_rs{"new", 300, 3, 0};
  std::vector<ReplicaSetCounts> old = {{"old", 100, 10, 10}};
  EXPECT_EQ(ScaleDownOldReplicaSets(10, limits, new_rs, old), std::vector<int32_t>{8});
  // Nothing can go while the new pods are not available and we are at the minimum.
  old[0].replicas = 8;
  old[0].available = 8;
  EXPECT_EQ(ScaleDownOldReplicaSets(10, limits, new_rs, old), std::vector<int32_t>{8});
  // Once the 3 new pods are available: 11 available, 3 may go.
  new_rs.available = 3;
  EXPECT_EQ(ScaleDownOldReplicaSets(10, limits, new_rs, old), std::vector<int32_t>{5});
  // Two old RSs, the older one crash-looping: its unavailable pods go first
  // (they cost no availability), then available ones from the oldest.
  std::vector<ReplicaSetCounts> two = {{"newer-old", 200, 4, 4}, {"oldest", 100, 4, 1}};
  ReplicaSetCounts fresh{"new", 300, 4, 4};
  // All 12 pods, available 9, min 8: unhealthy 3 of "oldest" go, then 1 available (oldest first).
  EXPECT_EQ(ScaleDownOldReplicaSets(10, limits, fresh, two), (std::vector<int32_t>{4, 0}));
  // No old pods: nothing to do.
  EXPECT_EQ(ScaleDownOldReplicaSets(10, limits, fresh, {{"gone", 1, 0, 0}}), std::vector<int32_t>{0});
}

TEST(RolloutMathTest, RecreateKillsOldBeforeStartingNew) {
  std::vector<ReplicaSetCounts> old = {{"old", 1, 3, 3}};
  RecreateStep step = NextRecreateStep(3, old, 3);
  EXPECT_TRUE(step.scale_old_to_zero);
  EXPECT_EQ(step.new_replicas, 0);
  old[0].replicas = 0;
  step = NextRecreateStep(3, old, 1);  // scaled to 0, a pod still terminating
  EXPECT_FALSE(step.scale_old_to_zero);
  EXPECT_EQ(step.new_replicas, 0);
  step = NextRecreateStep(3, old, 0);
  EXPECT_EQ(step.new_replicas, 3);
}

TEST(RolloutMathTest, CompleteOnlyWhenAllNewAreUpdatedAndAvailableAndNoOldRemain) {
  ReplicaSetCounts new_rs{"new", 2, 3, 3};
  EXPECT_TRUE(RolloutComplete(3, new_rs, 3, {{"old", 1, 0, 0}}));
  EXPECT_FALSE(RolloutComplete(3, new_rs, 3, {{"old", 1, 1, 1}}));
  EXPECT_FALSE(RolloutComplete(3, new_rs, 2, {}));
  new_rs.available = 2;
  EXPECT_FALSE(RolloutComplete(3, new_rs, 3, {}));
}

}  // namespace
}  // namespace berth::controllers
