#include "controlplane/scheduler/filters.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;
using testing::MakeNode;
using testing::MakePod;

class FiltersTest : public ::testing::Test {
 protected:
  void AddNode(const json& node) { cache_.AddOrUpdateNode(*NodeInfoFromJson(node)); }
  void Bind(json pod, const std::string& node) {
    pod["spec"]["nodeName"] = node;
    cache_.AddOrUpdatePod(*PodInfoFromJson(pod));
  }
  // The reasons node `name` gives for `pod` (empty when it fits).
  Reasons Check(const json& pod_json, const std::string& name) {
    pod_ = *PodInfoFromJson(pod_json);
    PrepareCycle(pod_, cache_, &state_);
    Reasons reasons;
    bool ok = RunFilters(state_, *cache_.GetNode(name), &reasons);
    EXPECT_EQ(ok, reasons.empty());
    return reasons;
  }

  SchedulerCache cache_;
  PodInfo pod_;
  CycleState state_;
};

TEST_F(FiltersTest, ToleratesTaintAsCoreV1) {
  Taint taint{"k", "v", "NoSchedule"};
  EXPECT_TRUE(ToleratesTaint({"k", "Equal", "v", "NoSchedule", {}}, taint));
  EXPECT_TRUE(ToleratesTaint({"k", "", "v", "", {}}, taint));
  EXPECT_TRUE(ToleratesTaint({"k", "Exists", "", "", {}}, taint));
  EXPECT_TRUE(ToleratesTaint({"", "Exists", "", "", {}}, taint));
  EXPECT_FALSE(ToleratesTaint({"k", "Equal", "w", "NoSchedule", {}}, taint));
  EXPECT_FALSE(ToleratesTaint({"k", "Exists", "", "NoExecute", {}}, taint));
  EXPECT_FALSE(ToleratesTaint({"j", "Exists", "", "", {}}, taint));
}

TEST_F(FiltersTest, UnschedulableNode) {
  json node = MakeNode("n1", "4", "8Gi");
  node["spec"]["unschedulable"] = true;
  AddNode(node);
  EXPECT_EQ(Check(MakePod("p"), "n1"), Reasons{kReasonUnschedulable});
  json tolerant = MakePod("p");
  tolerant["spec"]["tolerations"] = json::array({{{"key", kTaintUnschedulable}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
  EXPECT_TRUE(Check(tolerant, "n1").empty());
}

TEST_F(FiltersTest, NotReadyNodeActsTaintedNotReady) {
  json node = MakeNode("n1", "4", "8Gi");
  node["status"]["conditions"][0]["status"] = "False";
  AddNode(node);
  EXPECT_EQ(Check(MakePod("p"), "n1"), Reasons{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"});
  json tolerant = MakePod("p");
  tolerant["spec"]["tolerations"] = json::array({{{"key", kTaintNotReady}, {"operator", "Exists"}}});
  EXPECT_TRUE(Check(tolerant, "n1").empty());
}

TEST_F(FiltersTest, NodeName) {
  AddNode(MakeNode("n1", "4", "8Gi"));
  AddNode(MakeNode("n2", "4", "8Gi"));
  json pod = MakePod("p");
  pod["spec"]["nodeName"] = "n2";
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonNodeName});
  EXPECT_TRUE(Check(pod, "n2").empty());
}

TEST_F(FiltersTest, TaintsNoScheduleAndNoExecuteButNotPreferNoSchedule) {
  json node = MakeNode("n1", "4", "8Gi");
  node["spec"]["taints"] = json::array({{{"key", "soft"}, {"effect", "PreferNoSchedule"}},
                                        {{"key", "gpu"}, {"value", "true"}, {"effect", "NoExecute"}}});
  AddNode(node);
  EXPECT_EQ(Check(MakePod("p"), "n1"), Reasons{"node(s) had untolerated taint {gpu: true}"});
  json tolerant = MakePod("p");
  tolerant["spec"]["tolerations"] = json::array({{{"key", "gpu"}, {"value", "true"}, {"effect", "NoExecute"}}});
  EXPECT_TRUE(Check(tolerant, "n1").empty());
}

TEST_F(FiltersTest, NodeSelectorAndRequiredAffinity) {
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"disk", "ssd"}, {"zone", "a"}}));
  json pod = MakePod("p");
  pod["spec"]["nodeSelector"] = {{"disk", "hdd"}};
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonNodeAffinity});
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_TRUE(Check(pod, "n1").empty());
  pod["spec"]["affinity"] = json::parse(R"({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}]}}})");
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonNodeAffinity});
}

TEST_F(FiltersTest, HostPorts) {
  AddNode(MakeNode("n1", "4", "8Gi"));
  json used = MakePod("used");
  used["spec"]["containers"][0]["ports"] = json::array({{{"containerPort", 80}, {"hostPort", 8080}, {"hostIP", "10.0.0.1"}}});
  Bind(used, "n1");
  json pod = MakePod("p");
  pod["spec"]["containers"][0]["ports"] = json::array({{{"containerPort", 80}, {"hostPort", 8080}}});
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonNodePorts});
  pod["spec"]["containers"][0]["ports"][0]["hostIP"] = "10.0.0.2";
  EXPECT_TRUE(Check(pod, "n1").empty());
  pod["spec"]["containers"][0]["ports"][0]["protocol"] = "UDP";
  pod["spec"]["containers"][0]["ports"][0]["hostIP"] = "10.0.0.1";
  EXPECT_TRUE(Check(pod, "n1").empty());
}

TEST_F(FiltersTest, ResourcesFitCountsBoundPodsAndExtendedResources) {
  AddNode(MakeNode("n1", "2", "4Gi", 2, json::object(), {{"nvidia.com/gpu", "1"}}));
  Bind(MakePod("a", {{"cpu", "1500m"}, {"nvidia.com/gpu", "1"}}), "n1");
  EXPECT_TRUE(Check(MakePod("p", {{"cpu", "500m"}}), "n1").empty());
  EXPECT_EQ(Check(MakePod("p", {{"cpu", "600m"}, {"memory", "5Gi"}, {"nvidia.com/gpu", "1"}}), "n1"),
            (Reasons{"Insufficient cpu", "Insufficient memory", "Insufficient nvidia.com/gpu"}));
  EXPECT_EQ(Check(MakePod("p", {{"example.com/dongle", "1"}}), "n1"), Reasons{"Insufficient example.com/dongle"});
  Bind(MakePod("b"), "n1");
  EXPECT_EQ(Check(MakePod("p"), "n1"), Reasons{kReasonTooManyPods});
}

TEST_F(FiltersTest, PodAntiAffinityByTopologyKey) {
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n3", "4", "8Gi", 110, {{"zone", "b"}}));
  Bind(MakePod("web-1", json::object(), {{"app", "web"}}), "n1");
  json pod = MakePod("web-2", json::object(), {{"app", "web"}});
  pod["spec"]["affinity"] = json::parse(R"({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "web"}}}]}})");
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonAntiAffinity});
  EXPECT_EQ(Check(pod, "n2"), Reasons{kReasonAntiAffinity});  // same zone
  EXPECT_TRUE(Check(pod, "n3").empty());
}

TEST_F(FiltersTest, ExistingPodsAntiAffinityIsSymmetric) {
  AddNode(MakeNode("n1", "4", "8Gi"));
  AddNode(MakeNode("n2", "4", "8Gi"));
  json loner = MakePod("loner");
  loner["spec"]["affinity"] = json::parse(R"({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}]}})");
  Bind(loner, "n1");
  json web = MakePod("web", json::object(), {{"app", "web"}});
  EXPECT_EQ(Check(web, "n1"), Reasons{kReasonExistingAntiAffinity});
  EXPECT_TRUE(Check(web, "n2").empty());
  EXPECT_TRUE(Check(MakePod("db", json::object(), {{"app", "db"}}), "n1").empty());
}

TEST_F(FiltersTest, PodAffinityNeedsAMatchInTheDomainExceptForTheFirstOfItsGroup) {
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"zone", "b"}}));
  AddNode(MakeNode("n3", "4", "8Gi"));  // no zone label
  json pod = MakePod("cache", json::object(), {{"app", "cache"}});
  pod["spec"]["affinity"] = json::parse(R"({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "cache"}}}]}})");
  // The first pod of the group matches its own term: any node with the key.
  EXPECT_TRUE(Check(pod, "n1").empty());
  EXPECT_EQ(Check(pod, "n3"), Reasons{kReasonAffinity});
  Bind(MakePod("cache-0", json::object(), {{"app", "cache"}}), "n1");
  EXPECT_TRUE(Check(pod, "n1").empty());
  EXPECT_EQ(Check(pod, "n2"), Reasons{kReasonAffinity});
  // A pod that does not match its own term needs an existing match.
  json other = MakePod("other", json::object(), {{"app", "web"}});
  other["spec"]["affinity"] = json::parse(R"({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}]}})");
  EXPECT_EQ(Check(other, "n1"), Reasons{kReasonAffinity});
}

TEST_F(FiltersTest, TopologySpreadDoNotSchedule) {
  AddNode(MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}));
  AddNode(MakeNode("n2", "4", "8Gi", 110, {{"zone", "b"}}));
  AddNode(MakeNode("n3", "4", "8Gi"));
  Bind(MakePod("w1", json::object(), {{"app", "web"}}), "n1");
  json pod = MakePod("w2", json::object(), {{"app", "web"}});
  pod["spec"]["topologySpreadConstraints"] = json::parse(R"([{"maxSkew": 1, "topologyKey": "zone",
      "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}])");
  EXPECT_EQ(Check(pod, "n1"), Reasons{kReasonSpread});  // a: 1+1 - min 0 = 2 > 1
  EXPECT_TRUE(Check(pod, "n2").empty());
  EXPECT_EQ(Check(pod, "n3"), Reasons{kReasonSpreadMissingLabel});
}

TEST_F(FiltersTest, FirstFailingFilterWins) {
  json node = MakeNode("n1", "1", "1Gi");
  node["spec"]["taints"] = json::array({{{"key", "k"}, {"effect", "NoSchedule"}}});
  AddNode(node);
  // Too big and untolerated: only the taint is reported (TaintToleration runs first).
  EXPECT_EQ(Check(MakePod("p", {{"cpu", "2"}}), "n1"), Reasons{"node(s) had untolerated taint {k: }"});
}

}  // namespace
}  // namespace berth::scheduler
