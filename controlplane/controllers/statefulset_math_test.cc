#include "controlplane/controllers/statefulset_math.h"

#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

StatefulPod Ready(const std::string& rev = "r1") { return {true, false, rev}; }
StatefulPod Starting() { return {false, false, "r1"}; }

TEST(StatefulSetMathTest, OrderedReadyCreatesOneAtATimeInOrder) {
  std::map<int32_t, StatefulPod> pods;
  EXPECT_EQ(NextStatefulSetAction(3, false, pods, "r1").create, std::vector<int32_t>{0});
  pods[0] = Starting();
  EXPECT_TRUE(NextStatefulSetAction(3, false, pods, "r1").create.empty());
  pods[0] = Ready();
  EXPECT_EQ(NextStatefulSetAction(3, false, pods, "r1").create, std::vector<int32_t>{1});
  // Parallel: every missing ordinal at once.
  EXPECT_EQ(NextStatefulSetAction(3, true, {{0, Starting()}}, "r1").create, (std::vector<int32_t>{1, 2}));
}

TEST(StatefulSetMathTest, ScaleDownFromTheHighestOrdinalWhenOthersAreReady) {
  std::map<int32_t, StatefulPod> pods = {{0, Ready()}, {1, Ready()}, {2, Ready()}, {3, Ready()}};
  EXPECT_EQ(NextStatefulSetAction(2, false, pods, "r1").remove, std::vector<int32_t>{3});
  pods[3].terminating = true;
  EXPECT_TRUE(NextStatefulSetAction(2, false, pods, "r1").remove.empty());  // waits for 3 to go
  pods.erase(3);
  pods[0] = Starting();
  EXPECT_TRUE(NextStatefulSetAction(2, false, pods, "r1").remove.empty());  // 0 not ready
  pods[0] = Ready();
  EXPECT_EQ(NextStatefulSetAction(2, false, pods, "r1").remove, std::vector<int32_t>{2});
  EXPECT_EQ(NextStatefulSetAction(1, true, pods, "r1").remove, (std::vector<int32_t>{2, 1}));
}

TEST(StatefulSetMathTest, RollingUpdateFromTheTopDownToThePartition) {
  std::map<int32_t, StatefulPod> pods = {{0, Ready("r1")}, {1, Ready("r1")}, {2, Ready("r1")}};
  EXPECT_EQ(NextStatefulSetAction(3, false, pods, "r2").remove, std::vector<int32_t>{2});
  pods[2] = Ready("r2");
  EXPECT_EQ(NextStatefulSetAction(3, false, pods, "r2").remove, std::vector<int32_t>{1});
  // Partition 1: ordinal 0 keeps the old revision.
  pods[1] = Ready("r2");
  EXPECT_TRUE(NextStatefulSetAction(3, false, pods, "r2", /*partition=*/1).remove.empty());
  EXPECT_EQ(NextStatefulSetAction(3, false, pods, "r2").remove, std::vector<int32_t>{0});
}

TEST(StatefulSetMathTest, StableNames) {
  EXPECT_EQ(StatefulPodName("web", 2), "web-2");
  EXPECT_EQ(StatefulClaimName("data", "web", 2), "data-web-2");
}

}  // namespace
}  // namespace berth::controllers
