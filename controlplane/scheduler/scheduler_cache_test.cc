#include "controlplane/scheduler/scheduler_cache.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;

NodeInfo Node(const std::string& name) { return *NodeInfoFromJson(testing::MakeNode(name, "4", "8Gi")); }

PodInfo Pod(const std::string& name, const std::string& node, const std::string& cpu = "500m") {
  json pod = testing::MakePod(name, {{"cpu", cpu}});
  pod["spec"]["containers"][0]["ports"] = json::array({{{"containerPort", 80}, {"hostPort", 8080}}});
  pod["spec"]["nodeName"] = node;
  return *PodInfoFromJson(pod);
}

TEST(SchedulerCacheTest, BoundPodsCountOnTheirNode) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(Node("n1"));
  cache.AddOrUpdateNode(Node("n2"));
  cache.AddOrUpdatePod(Pod("a", "n1"));
  cache.AddOrUpdatePod(Pod("b", "n1", "250m"));
  const NodeState* n1 = cache.GetNode("n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->requested.milli_cpu, 750);
  EXPECT_EQ(n1->pods.size(), 2u);
  EXPECT_EQ(n1->used_ports.size(), 2u);
  // Moving b to n2 (an update) moves its requests.
  cache.AddOrUpdatePod(Pod("b", "n2", "250m"));
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 500);
  EXPECT_EQ(cache.GetNode("n2")->requested.milli_cpu, 250);
  ASSERT_TRUE(cache.RemovePod("default/a").ok());
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 0);
  EXPECT_TRUE(cache.GetNode("n1")->used_ports.empty());
  EXPECT_EQ(cache.RemovePod("default/a").code(), absl::StatusCode::kNotFound);
}

TEST(SchedulerCacheTest, TerminalPodsAndUnboundPodsHoldNothing) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(Node("n1"));
  cache.AddOrUpdatePod(Pod("a", "n1"));
  PodInfo done = Pod("a", "n1");
  done.terminal = true;
  cache.AddOrUpdatePod(done);
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 0);
  EXPECT_EQ(cache.pod_count(), 0u);
  cache.AddOrUpdatePod(Pod("b", ""));
  EXPECT_EQ(cache.pod_count(), 0u);
}

TEST(SchedulerCacheTest, AssumeConfirmForget) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(Node("n1"));
  ASSERT_TRUE(cache.AssumePod(Pod("a", ""), "n1").ok());
  EXPECT_TRUE(cache.IsAssumed("default/a"));
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 500);
  EXPECT_EQ(cache.AssumePod(Pod("a", ""), "n1").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(cache.AssumePod(Pod("z", ""), "nope").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(cache.ForgetPod("default/a").ok());
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 0);

  ASSERT_TRUE(cache.AssumePod(Pod("b", ""), "n1").ok());
  cache.AddOrUpdatePod(Pod("b", "n1"));  // the bind is seen: confirmed, counted once
  EXPECT_FALSE(cache.IsAssumed("default/b"));
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 500);
  EXPECT_EQ(cache.ForgetPod("default/b").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SchedulerCacheTest, RemovedNodeLeavesTheListAndKeepsItsPodsUntilRemoved) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(Node("n1"));
  cache.AddOrUpdateNode(Node("n2"));
  cache.AddOrUpdateNode(Node("n3"));
  cache.AddOrUpdatePod(Pod("a", "n1"));
  ASSERT_TRUE(cache.RemoveNode("n1").ok());
  ASSERT_EQ(cache.nodes().size(), 2u);
  EXPECT_EQ(cache.nodes()[0]->info.name, "n3");
  EXPECT_EQ(cache.GetNode("n1"), nullptr);
  EXPECT_EQ(cache.RemoveNode("n1").code(), absl::StatusCode::kNotFound);
  cache.AddOrUpdateNode(Node("n1"));  // back: its pod is still counted
  EXPECT_EQ(cache.GetNode("n1")->requested.milli_cpu, 500);
  ASSERT_TRUE(cache.RemoveNode("n2").ok());
  EXPECT_EQ(cache.nodes().size(), 2u);
}

}  // namespace
}  // namespace berth::scheduler

namespace berth::scheduler {
namespace {

TEST(MatchingPodCounterTest, CountsByLabelIndexAndBySelector) {
  SchedulerCache cache;
  cache.AddOrUpdateNode(Node("n1"));
  auto bind = [&cache](const std::string& name, json labels, const std::string& ns = "default") {
    json pod = testing::MakePod(name, json::object(), labels);
    pod["metadata"]["namespace"] = ns;
    pod["spec"]["nodeName"] = "n1";
    cache.AddOrUpdatePod(*PodInfoFromJson(pod));
  };
  bind("a", {{"app", "web"}, {"tier", "front"}});
  bind("b", {{"app", "web"}});
  bind("c", {{"app", "web"}}, "other");
  bind("d", json::object());
  const NodeState& node = *cache.GetNode("n1");
  std::string ns = "default";
  auto single = *LabelSelector::FromJson(json::parse(R"({"matchLabels": {"app": "web"}})"), "s");
  EXPECT_EQ(MatchingPodCounter(ns, single).Count(node), 2);
  auto two = *LabelSelector::FromJson(json::parse(R"({"matchLabels": {"app": "web", "tier": "front"}})"), "s");
  EXPECT_EQ(MatchingPodCounter(ns, two).Count(node), 1);
  auto absent = *LabelSelector::FromJson(json::parse(R"({"matchLabels": {"app": "db"}})"), "s");
  EXPECT_EQ(MatchingPodCounter(ns, absent).Count(node), 0);
  auto everything = LabelSelector::Everything();
  EXPECT_EQ(MatchingPodCounter(ns, everything).Count(node), 3);  // d has no labels but matches {}
  ASSERT_TRUE(cache.RemovePod("default/b").ok());
  EXPECT_EQ(MatchingPodCounter(ns, single).Count(node), 1);
  EXPECT_FALSE(node.label_counts.contains(LabelCountKey("default", "tier", "web")));
  EXPECT_EQ(node.label_counts.at(LabelCountKey("default", "app", "web")), 1);
  // The cache-wide index lists the node while a pod carries the label, and only then.
  ASSERT_NE(cache.NodesWithLabel(LabelCountKey("default", "app", "web")), nullptr);
  int visited = 0;
  MatchingPodCounter(ns, single).ForEachNodeWithMatches(cache, [&](const NodeState& n, int64_t count) {
    EXPECT_EQ(n.info.name, "n1");
    EXPECT_EQ(count, 1);
    ++visited;
  });
  EXPECT_EQ(visited, 1);
  ASSERT_TRUE(cache.RemovePod("default/a").ok());
  EXPECT_EQ(cache.NodesWithLabel(LabelCountKey("default", "app", "web")), nullptr);
  MatchingPodCounter(ns, single).ForEachNodeWithMatches(cache, [&](const NodeState&, int64_t) { ++visited; });
  EXPECT_EQ(visited, 1);
}

}  // namespace
}  // namespace berth::scheduler
