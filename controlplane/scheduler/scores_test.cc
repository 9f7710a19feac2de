#include "controlplane/scheduler/scores.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;
using testing::MakeNode;
using testing::MakePod;

class ScoresTest : public ::testing::Test {
 protected:
  const NodeState* AddNode(const json& node) {
    NodeInfo info = *NodeInfoFromJson(node);
    std::string name = info.name;
    cache_.AddOrUpdateNode(std::move(info));
    nodes_.push_back(cache_.GetNode(name));
    return nodes_.back();
  }
  void Bind(json pod, const std::string& node) {
    pod["spec"]["nodeName"] = node;
    cache_.AddOrUpdatePod(*PodInfoFromJson(pod));
  }

  SchedulerCache cache_;
  std::vector<const NodeState*> nodes_;
  ScoreConfig config_;
};

TEST_F(ScoresTest, LeastAndMostAllocated) {
  const NodeState* node = AddNode(MakeNode("n1", "4", "8Gi"));
  PodInfo pod = *PodInfoFromJson(MakePod("p", {{"cpu", "1"}, {"memory", "2Gi"}}));
  EXPECT_EQ(ResourcesFitScore(pod, *node, config_), 75);
  config_.strategy = ScoreConfig::Strategy::kMostAllocated;
  EXPECT_EQ(ResourcesFitScore(pod, *node, config_), 25);
  // A best-effort pod still counts 100m / 200Mi.
  config_.strategy = ScoreConfig::Strategy::kLeastAllocated;
  PodInfo best_effort = *PodInfoFromJson(MakePod("q"));
  EXPECT_EQ(ResourcesFitScore(best_effort, *node, config_), (97 + 97) / 2);
}

TEST_F(ScoresTest, BalancedAllocation) {
  const NodeState* node = AddNode(MakeNode("n1", "4", "8Gi"));
  PodInfo even = *PodInfoFromJson(MakePod("p", {{"cpu", "2"}, {"memory", "4Gi"}}));
  EXPECT_EQ(BalancedAllocationScore(even, *node, config_), 100);
  PodInfo skewed = *PodInfoFromJson(MakePod("p", {{"cpu", "1"}, {"memory", "4Gi"}}));
  EXPECT_EQ(BalancedAllocationScore(skewed, *node, config_), 87);  // fractions .25 and .5
}

TEST_F(ScoresTest, TaintTolerationPrefersFewerPreferNoScheduleTaints) {
  AddNode(MakeNode("n0", "4", "8Gi"));
  json one = MakeNode("n1", "4", "8Gi");
  one["spec"]["taints"] = json::array({{{"key", "a"}, {"effect", "PreferNoSchedule"}}});
  AddNode(one);
  json two = MakeNode("n2", "4", "8Gi");
  two["spec"]["taints"] = json::array({{{"key", "a"}, {"effect", "PreferNoSchedule"}},
                                       {{"key", "b"}, {"effect", "PreferNoSchedule"}}});
  AddNode(two);
  std::vector<int64_t> scores;
  TaintTolerationScores(*PodInfoFromJson(MakePod("p")), nodes_, &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{100, 50, 0}));
  json tolerant = MakePod("p");
  tolerant["spec"]["tolerations"] = json::array({{{"key", "a"}, {"operator", "Exists"}}});
  TaintTolerationScores(*PodInfoFromJson(tolerant), nodes_, &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{100, 100, 0}));
}

TEST_F(ScoresTest, PreferredNodeAffinity) {
  AddNode(MakeNode("n0", "4", "8Gi"));
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"disk", "ssd"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"disk", "ssd"}, {"zone", "a"}}));
  json pod = MakePod("p");
  pod["spec"]["affinity"] = json::parse(R"({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 5, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
      {"weight": 15, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}]}})");
  std::vector<int64_t> scores;
  NodeAffinityScores(*PodInfoFromJson(pod), nodes_, &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{0, 25, 100}));
}

TEST_F(ScoresTest, PreferredPodAffinityAndAntiAffinity) {
  AddNode(MakeNode("n0", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"zone", "b"}}));
  Bind(MakePod("db", json::object(), {{"app", "db"}}), "n0");
  json near = MakePod("p");
  near["spec"]["affinity"] = json::parse(R"({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 10, "podAffinityTerm": {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}}]}})");
  std::vector<int64_t> scores;
  InterPodAffinityScores(*PodInfoFromJson(near), cache_, nodes_, config_, &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{100, 100, 0}));
  json far = MakePod("p");
  far["spec"]["affinity"] = json::parse(R"({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 10, "podAffinityTerm": {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}}]}})");
  InterPodAffinityScores(*PodInfoFromJson(far), cache_, nodes_, config_, &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{0, 0, 100}));
  // An existing pod's preferred term pulls a matching new pod (symmetry).
  json friendly = MakePod("friendly");
  friendly["spec"]["affinity"] = json::parse(R"({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 50, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                         "labelSelector": {"matchLabels": {"app": "web"}}}}]}})");
  Bind(friendly, "n2");
  InterPodAffinityScores(*PodInfoFromJson(MakePod("w", json::object(), {{"app", "web"}})), cache_, nodes_, config_,
                         &scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{0, 0, 100}));
}

TEST_F(ScoresTest, TopologySpreadScheduleAnyway) {
  AddNode(MakeNode("n0", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"zone", "b"}}));
  AddNode(MakeNode("n3", "4", "8Gi"));  // no zone: ignored
  Bind(MakePod("w0", json::object(), {{"app", "web"}}), "n0");
  Bind(MakePod("w1", json::object(), {{"app", "web"}}), "n1");
  json pod = MakePod("w2", json::object(), {{"app", "web"}});
  pod["spec"]["topologySpreadConstraints"] = json::parse(R"([{"maxSkew": 1, "topologyKey": "zone",
      "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}])");
  std::vector<int64_t> scores;
  TopologySpreadScores(*PodInfoFromJson(pod), cache_, nodes_, &scores);
  // zone a: 2 * log(4) = 2.77 -> 3; zone b: 0. Normalized: 100 * (3 + 0 - s) / 3.
  EXPECT_EQ(scores, (std::vector<int64_t>{0, 0, 100, 0}));
}

}  // namespace
}  // namespace berth::scheduler
