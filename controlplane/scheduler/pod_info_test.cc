#include "controlplane/scheduler/pod_info.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using nlohmann::json;
using testing::MakePod;

TEST(PodInfoTest, RequestsSumContainersMaxInitPlusOverhead) {
  json pod = MakePod("p", {{"cpu", "100m"}, {"memory", "100Mi"}, {"nvidia.com/gpu", "1"}});
  pod["spec"]["containers"].push_back({{"name", "d"}, {"image", "x"},
                                       {"resources", {{"requests", {{"cpu", "200m"}}}}}});
  pod["spec"]["initContainers"] = json::array({
      {{"name", "i1"}, {"image", "x"}, {"resources", {{"requests", {{"cpu", "500m"}, {"memory", "10Mi"}}}}}},
      {{"name", "sidecar"}, {"image", "x"}, {"restartPolicy", "Always"},
       {"resources", {{"requests", {{"cpu", "50m"}}}}}},
      {{"name", "i2"}, {"image", "x"}, {"resources", {{"requests", {{"cpu", "400m"}}}}}},
  });
  pod["spec"]["overhead"] = {{"cpu", "10m"}};
  auto info = PodInfoFromJson(pod);
  ASSERT_TRUE(info.ok()) << info.status();
  // containers 300m + sidecar 50m = 350m; init peaks: 500m, 50m, 400m+50m; max 500m; + overhead.
  EXPECT_EQ(info->requests.milli_cpu, 510);
  EXPECT_EQ(info->requests.memory, 100 << 20);
  EXPECT_EQ(info->requests.Get("nvidia.com/gpu"), 1);
  // The second container and the sidecar ask no memory: 200Mi each when scoring.
  EXPECT_EQ(info->nonzero_requests.memory, (100 << 20) + 2 * kDefaultMemoryRequest);
}

TEST(PodInfoTest, BestEffortPodScoresWithDefaults) {
  auto info = PodInfoFromJson(MakePod("p"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->requests.IsZero());
  EXPECT_EQ(info->nonzero_requests.milli_cpu, kDefaultMilliCpuRequest);
  EXPECT_EQ(info->scheduler_name, "default-scheduler");
  EXPECT_EQ(info->Key(), "default/p");
}

TEST(PodInfoTest, PlacementFields) {
  json pod = MakePod("p", json::object(), {{"app", "web"}});
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  pod["spec"]["schedulerName"] = "other";
  pod["spec"]["priority"] = 1000;
  pod["spec"]["tolerations"] = json::array({{{"key", "k"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
  pod["spec"]["containers"][0]["ports"] = json::array({{{"containerPort", 80}, {"hostPort", 8080}}});
  pod["spec"]["affinity"] = json::parse(R"({
    "nodeAffinity": {
      "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]},
      "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "preference": {"matchExpressions": [{"key": "fast", "operator": "Exists"}]}}]},
    "podAntiAffinity": {
      "requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}],
      "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "podAffinityTerm": {"topologyKey": "zone", "namespaces": ["other"],
                                           "labelSelector": {"matchLabels": {"app": "db"}}}}]}})");
  pod["spec"]["topologySpreadConstraints"] = json::parse(R"([{"maxSkew": 2, "topologyKey": "zone",
      "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}])");
  auto info = PodInfoFromJson(pod);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->scheduler_name, "other");
  EXPECT_EQ(info->priority, 1000);
  EXPECT_EQ(info->node_selector.at("disk"), "ssd");
  ASSERT_EQ(info->host_ports.size(), 1u);
  EXPECT_EQ(info->host_ports[0], (HostPort{"0.0.0.0", "TCP", 8080}));
  ASSERT_TRUE(info->required_node_affinity.has_value());
  EXPECT_TRUE(info->required_node_affinity->Matches("n", {{"zone", "a"}}));
  ASSERT_EQ(info->preferred_node_affinity.size(), 1u);
  EXPECT_EQ(info->preferred_node_affinity[0].weight, 5);
  ASSERT_EQ(info->required_anti_affinity.size(), 1u);
  EXPECT_EQ(info->required_anti_affinity[0].namespaces, std::vector<std::string>{"default"});
  EXPECT_TRUE(info->required_anti_affinity[0].Matches(*info));
  ASSERT_EQ(info->preferred_anti_affinity.size(), 1u);
  EXPECT_EQ(info->preferred_anti_affinity[0].weight, 10);
  EXPECT_EQ(info->preferred_anti_affinity[0].namespaces, std::vector<std::string>{"other"});
  ASSERT_EQ(info->spread_constraints.size(), 1u);
  EXPECT_FALSE(info->spread_constraints[0].do_not_schedule);
  EXPECT_EQ(info->spread_constraints[0].max_skew, 2);
  ASSERT_EQ(info->tolerations.size(), 1u);
}

TEST(PodInfoTest, BadObjectsNameTheField) {
  json no_key = MakePod("p");
  no_key["spec"]["affinity"] = json::parse(R"({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"labelSelector": {}}]}})");
  auto a = PodInfoFromJson(no_key);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can "
            "not be empty");

  json bad_weight = MakePod("p");
  bad_weight["spec"]["affinity"] = json::parse(R"({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 0, "preference": {}}]}})");
  auto b = PodInfoFromJson(bad_weight);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: must be in the range "
            "1-100, got 0");

  json bad_spread = MakePod("p");
  bad_spread["spec"]["topologySpreadConstraints"] = json::parse(R"([{"maxSkew": 1, "topologyKey": "zone",
      "whenUnsatisfiable": "Never"}])");
  auto c = PodInfoFromJson(bad_spread);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"Never\": supported values: "
            "\"DoNotSchedule\", \"ScheduleAnyway\"");

  json bad_toleration = MakePod("p");
  bad_toleration["spec"]["tolerations"] = json::array({{{"key", "k"}, {"effect", "Sometimes"}}});
  auto d = PodInfoFromJson(bad_toleration);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "spec.tolerations[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", "
            "\"PreferNoSchedule\", \"NoExecute\"");

  json bad_quantity = MakePod("p", {{"cpu", "lots"}});
  auto e = PodInfoFromJson(bad_quantity);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("cpu"), std::string::npos) << e.status();
}

TEST(PodInfoTest, TerminalPhase) {
  json pod = MakePod("p");
  pod["status"]["phase"] = "Succeeded";
  auto info = PodInfoFromJson(pod);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->terminal);
}

TEST(HostPortTest, WildcardIpConflicts) {
  HostPort any{"0.0.0.0", "TCP", 80}, one{"10.0.0.1", "TCP", 80}, two{"10.0.0.2", "TCP", 80}, udp{"0.0.0.0", "UDP", 80};
  EXPECT_TRUE(any.ConflictsWith(one));
  EXPECT_TRUE(one.ConflictsWith(any));
  EXPECT_FALSE(one.ConflictsWith(two));
  EXPECT_FALSE(any.ConflictsWith(udp));
}

}  // namespace
}  // namespace berth::scheduler
