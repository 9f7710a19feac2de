#include "controlplane/scheduler/node_info.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;

TEST(NodeInfoTest, ParsesAllocatableLabelsTaintsReady) {
  json node = testing::MakeNode("n1", "4", "8Gi", 110, {{"zone", "a"}}, {{"nvidia.com/gpu", "2"}});
  node["spec"]["taints"] = json::array({{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}});
  node["spec"]["unschedulable"] = true;
  node["status"]["capacity"]["ephemeral-storage"] = "10Gi";  // not in allocatable: capacity counts
  auto info = NodeInfoFromJson(node);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name, "n1");
  EXPECT_EQ(info->allocatable.milli_cpu, 4000);
  EXPECT_EQ(info->allocatable.memory, 8LL << 30);
  EXPECT_EQ(info->allocatable.ephemeral_storage, 10LL << 30);
  EXPECT_EQ(info->allocatable.Get("nvidia.com/gpu"), 2);
  EXPECT_EQ(info->allowed_pods, 110);
  EXPECT_EQ(info->labels.at("zone"), "a");
  EXPECT_EQ(info->labels.at("kubernetes.io/hostname"), "n1");
  ASSERT_EQ(info->taints.size(), 1u);
  EXPECT_EQ(info->taints[0], (Taint{"node-role.kubernetes.io/control-plane", "", "NoSchedule"}));
  EXPECT_TRUE(info->unschedulable);
  EXPECT_TRUE(info->ready);
}

TEST(NodeInfoTest, NotReadyWithoutTrueCondition) {
  json node = testing::MakeNode("n1", "1", "1Gi");
  node["status"]["conditions"][0]["status"] = "Unknown";
  auto info = NodeInfoFromJson(node);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->ready);
  node["status"].erase("conditions");
  EXPECT_FALSE(NodeInfoFromJson(node)->ready);
}

TEST(NodeInfoTest, BadObjectsNameTheField) {
  json bad_effect = testing::MakeNode("n1", "1", "1Gi");
  bad_effect["spec"]["taints"] = json::array({{{"key", "k"}, {"effect", "Maybe"}}});
  auto a = NodeInfoFromJson(bad_effect);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "spec.taints[0].effect: Unsupported value: \"Maybe\": supported values: \"NoSchedule\", \"PreferNoSchedule\", "
            "\"NoExecute\"");
  json bad_quantity = testing::MakeNode("n1", "1", "1Gi");
  bad_quantity["status"]["allocatable"]["cpu"] = "four";
  auto b = NodeInfoFromJson(bad_quantity);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().substr(0, 24), "status.allocatable[cpu]:");
  json no_name = testing::MakeNode("", "1", "1Gi");
  auto c = NodeInfoFromJson(no_name);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "metadata.name: Required value");
  json bad_unschedulable = testing::MakeNode("n1", "1", "1Gi");
  bad_unschedulable["spec"]["unschedulable"] = "yes";
  EXPECT_EQ(NodeInfoFromJson(bad_unschedulable).status().message(), "spec.unschedulable: must be a boolean, got \"yes\"");
}

}  // namespace
}  // namespace berth::scheduler
