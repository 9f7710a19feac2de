#include "controlplane/scheduler/scheduler.h"

#include <set>

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;
using testing::MakeNode;
using testing::MakePod;

PodInfo Pod(const json& pod) { return *PodInfoFromJson(pod); }

SchedulerOptions Seeded(uint64_t seed = 1) {
  SchedulerOptions options;
  options.seed = seed;
  return options;
}

TEST(SchedulerTest, FeasibleNodeCountAsKubeScheduler) {
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(50, 0), 50u);
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(100, 0), 100u);
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(1000, 0), 420u);   // 50 - 8 = 42%
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(5000, 0), 500u);   // 50 - 40 = 10%
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(6000, 0), 300u);   // at least 5%
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(1000, 5), 100u);   // at least 100 nodes
  EXPECT_EQ(Scheduler::NumFeasibleNodesToFind(1000, 30), 300u);
}

TEST(SchedulerTest, PicksTheLeastAllocatedNodeAndCountsAssumedPods) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("small", "2", "4Gi")));
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("big", "8", "16Gi")));
  Scheduler scheduler(&cache, Seeded());
  auto first = scheduler.SchedulePod(Pod(MakePod("a", {{"cpu", "1"}, {"memory", "1Gi"}})));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "big");
  EXPECT_TRUE(cache.IsAssumed("default/a"));
  EXPECT_EQ(cache.GetNode("big")->requested.milli_cpu, 1000);
  EXPECT_EQ(scheduler.SchedulePod(Pod(MakePod("a"))).status().code(), absl::StatusCode::kAlreadyExists);
  // Fill "big" through assumed pods until "small" wins.
  std::set<std::string> chosen;
  for (int i = 0; i < 6; ++i) {
    auto node = scheduler.SchedulePod(Pod(MakePod("b" + std::to_string(i), {{"cpu", "1"}, {"memory", "1Gi"}})));
    ASSERT_TRUE(node.ok()) << node.status();
    chosen.insert(*node);
  }
  EXPECT_EQ(chosen, (std::set<std::string>{"big", "small"}));
}

TEST(SchedulerTest, MostAllocatedPacks) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("n1", "4", "8Gi")));
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("n2", "4", "8Gi")));
  json busy = MakePod("busy", {{"cpu", "2"}, {"memory", "4Gi"}});
  busy["spec"]["nodeName"] = "n2";
  cache.AddOrUpdatePod(Pod(busy));
  SchedulerOptions options = Seeded();
  options.score.strategy = ScoreConfig::Strategy::kMostAllocated;
  Scheduler packer(&cache, options);
  EXPECT_EQ(*packer.SchedulePod(Pod(MakePod("p", {{"cpu", "1"}, {"memory", "1Gi"}}))), "n2");
  Scheduler spreader(&cache, Seeded());
  EXPECT_EQ(*spreader.SchedulePod(Pod(MakePod("q", {{"cpu", "1"}, {"memory", "1Gi"}}))), "n1");
}

TEST(SchedulerTest, FailedSchedulingMessageCountsReasonsAsKube) {
  SchedulerCache cache;
  for (const char* name : {"cp1", "cp2"}) {
    json node = MakeNode(name, "8", "16Gi");
    node["spec"]["taints"] = json::array({{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}});
    cache.AddOrUpdateNode(*NodeInfoFromJson(node));
  }
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("worker", "1", "16Gi")));
  Scheduler scheduler(&cache, Seeded());
  auto result = scheduler.SchedulePod(Pod(MakePod("p", {{"cpu", "2"}})));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(IsUnschedulable(result.status()));
  EXPECT_EQ(result.status().message(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }.");
  EXPECT_FALSE(cache.IsAssumed("default/p"));
  // One node can give several reasons; each is counted.
  auto both = scheduler.SchedulePod(Pod(MakePod("q", {{"cpu", "2"}, {"memory", "20Gi"}})));
  EXPECT_EQ(both.status().message(),
            "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 2 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }.");
}

TEST(SchedulerTest, MessageSortsAsStrings) {
  EXPECT_EQ(FailedSchedulingMessage(12, {{"Insufficient cpu", 10}, {"Too many pods", 2}}),
            "0/12 nodes are available: 10 Insufficient cpu, 2 Too many pods.");
}

TEST(SchedulerTest, NoNodesAndOtherSchedulers) {
  SchedulerCache cache;
  Scheduler scheduler(&cache, Seeded());
  auto none = scheduler.SchedulePod(Pod(MakePod("p")));
  EXPECT_TRUE(IsUnschedulable(none.status()));
  EXPECT_EQ(none.status().message(), "no nodes available to schedule pods");
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("n1", "1", "1Gi")));
  json other = MakePod("p");
  other["spec"]["schedulerName"] = "my-scheduler";
  auto result = scheduler.SchedulePod(Pod(other));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsUnschedulable(result.status()));
  EXPECT_EQ(result.status().message(), "pod default/p has schedulerName \"my-scheduler\", not \"default-scheduler\"");
  EXPECT_EQ(cache.pod_count(), 0u);
}

TEST(SchedulerTest, SamplingStartsWhereTheLastCycleStopped) {
  SchedulerCache cache;
  for (int i = 0; i < 1000; ++i) {
    cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("n" + std::to_string(i), "4", "8Gi")));
  }
  SchedulerOptions options = Seeded();
  options.percentage_of_nodes_to_score = 10;  // 100 nodes a cycle
  Scheduler scheduler(&cache, options);
  for (int window = 0; window < 3; ++window) {
    auto node = scheduler.SchedulePod(Pod(MakePod("p" + std::to_string(window))));
    ASSERT_TRUE(node.ok()) << node.status();
    int index = std::stoi(node->substr(1));
    EXPECT_GE(index, window * 100) << *node;
    EXPECT_LT(index, window * 100 + 100) << *node;
  }
}

TEST(SchedulerTest, TiesBrokenAtRandom) {
  std::set<std::string> chosen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SchedulerCache cache;
    for (const char* name : {"n1", "n2", "n3"}) cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode(name, "4", "8Gi")));
    Scheduler scheduler(&cache, Seeded(seed));
    chosen.insert(*scheduler.SchedulePod(Pod(MakePod("p"))));
  }
  EXPECT_EQ(chosen.size(), 3u);
}

TEST(SchedulerTest, GpuPodsLandOnlyWhereGpusAreFree) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("cpu-only", "16", "64Gi")));
  cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode("gpu", "4", "8Gi", 110, json::object(), {{"nvidia.com/gpu", "2"}})));
  Scheduler scheduler(&cache, Seeded());
  EXPECT_EQ(*scheduler.SchedulePod(Pod(MakePod("g1", {{"nvidia.com/gpu", "2"}}))), "gpu");
  auto second = scheduler.SchedulePod(Pod(MakePod("g2", {{"nvidia.com/gpu", "1"}})));
  EXPECT_EQ(second.status().message(), "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
  ASSERT_TRUE(cache.ForgetPod("default/g1").ok());  // the bind failed
  EXPECT_EQ(*scheduler.SchedulePod(Pod(MakePod("g2", {{"nvidia.com/gpu", "1"}}))), "gpu");
}

TEST(SchedulerTest, AntiAffinitySpreadsReplicasOverNodes) {
  SchedulerCache cache;
  for (const char* name : {"n1", "n2", "n3"}) cache.AddOrUpdateNode(*NodeInfoFromJson(MakeNode(name, "4", "8Gi")));
  Scheduler scheduler(&cache, Seeded());
  std::set<std::string> chosen;
  for (int i = 0; i < 4; ++i) {
    json pod = MakePod("web-" + std::to_string(i), json::object(), {{"app", "web"}});
    pod["spec"]["affinity"] = json::parse(R"({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}]}})");
    auto node = scheduler.SchedulePod(Pod(pod));
    if (i < 3) {
      ASSERT_TRUE(node.ok()) << node.status();
      chosen.insert(*node);
    } else {
      // The existing replicas' own anti-affinity is checked first (as kube-scheduler does).
      EXPECT_EQ(std::string(node.status().message()),
                "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.");
    }
  }
  EXPECT_EQ(chosen.size(), 3u);
}

}  // namespace
}  // namespace berth::scheduler
