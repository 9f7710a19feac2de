#include "controlplane/controllers/replica_math.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

std::vector<std::string> Names(const std::vector<PodForRanking>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods) out.push_back(p.name);
  return out;
}

TEST(ReplicaMathTest, DiffIsCappedByTheBurst) {
  EXPECT_EQ(ReplicaDiff(5, 2), 3);
  EXPECT_EQ(ReplicaDiff(2, 5), -3);
  EXPECT_EQ(ReplicaDiff(5000, 0), 500);
  EXPECT_EQ(ReplicaDiff(0, 900), -500);
}

TEST(ReplicaMathTest, SlowStartDoublesUpToTheCount) {
  EXPECT_EQ(SlowStartBatches(1), std::vector<int32_t>{1});
  EXPECT_EQ(SlowStartBatches(6), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(SlowStartBatches(100), (std::vector<int32_t>{1, 2, 4, 8, 16, 32, 37}));
  EXPECT_TRUE(SlowStartBatches(0).empty());
}

TEST(ReplicaMathTest, TheLeastUsefulPodsGoFirst) {
  std::vector<PodForRanking> pods = {
      {.name = "ready-old", .node_name = "n1", .phase = "Running", .ready = true, .ready_since_unix = 100, .created_unix = 10},
      {.name = "ready-new", .node_name = "n1", .phase = "Running", .ready = true, .ready_since_unix = 500, .created_unix = 20},
      {.name = "unscheduled", .phase = "Pending", .created_unix = 30},
      {.name = "pending-on-node", .node_name = "n2", .phase = "Pending", .created_unix = 5},
      {.name = "running-not-ready", .node_name = "n2", .phase = "Running", .created_unix = 1},
      {.name = "unknown", .node_name = "n3", .phase = "Unknown", .created_unix = 2},
      {.name = "not-ready-crashing", .node_name = "n2", .phase = "Running", .restarts = 7, .created_unix = 1},
  };
  EXPECT_EQ(Names(DeletionOrder(pods)),
            (std::vector<std::string>{"unscheduled", "pending-on-node", "unknown", "not-ready-crashing",
                                      "running-not-ready", "ready-new", "ready-old"}));
}

}  // namespace
}  // namespace berth::controllers
