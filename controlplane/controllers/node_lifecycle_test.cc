#include "controlplane/controllers/node_lifecycle.h"

#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(NodeLifecycleTest, SilentNodesBecomeUnknownAndGetTheirTaint) {
  EXPECT_EQ(EffectiveReady("True", kNow - absl::Seconds(10), kNow), "True");
  EXPECT_EQ(EffectiveReady("True", kNow - absl::Seconds(51), kNow), "Unknown");
  EXPECT_EQ(EffectiveReady("False", kNow, kNow), "False");
  EXPECT_FALSE(ReadinessTaint("True", kNow).has_value());
  EXPECT_EQ(ReadinessTaint("Unknown", kNow)->key, "node.kubernetes.io/unreachable");
  EXPECT_EQ(ReadinessTaint("False", kNow)->key, "node.kubernetes.io/not-ready");
  EXPECT_EQ(ReadinessTaint("False", kNow)->effect, "NoExecute");
}

TEST(NodeLifecycleTest, EvictionFollowsTolerations) {
  std::vector<Taint> unreachable = {*ReadinessTaint("Unknown", kNow)};
  // No tolerations: out at once.
  EXPECT_EQ(**EvictionTime(json::array(), unreachable), kNow);
  // Admission's default 300 s.
  json defaults = json::parse(R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                                   "effect":"NoExecute","tolerationSeconds":300}])");
  EXPECT_EQ(**EvictionTime(defaults, unreachable), kNow + absl::Seconds(300));
  // Exists with no key tolerates everything, forever (DaemonSet pods).
  EXPECT_FALSE(EvictionTime(json::parse(R"([{"operator":"Exists"}])"), unreachable)->has_value());
  // A toleration for another taint does not help; NoSchedule taints never evict.
  json other = json::parse(R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}])");
  EXPECT_EQ(**EvictionTime(other, unreachable), kNow);
  EXPECT_FALSE(EvictionTime(json::array(), {{"dedicated", "gpu", "NoSchedule", kNow}})->has_value());
  // Equal needs the value; the longest matching toleration wins.
  std::vector<Taint> custom = {{"dedicated", "gpu", "NoExecute", kNow}};
  EXPECT_EQ(**EvictionTime(json::parse(R"([{"key":"dedicated","value":"cpu","effect":"NoExecute"}])"), custom), kNow);
  EXPECT_EQ(**EvictionTime(json::parse(R"([{"key":"dedicated","value":"gpu","tolerationSeconds":10},
                                            {"key":"dedicated","operator":"Exists","tolerationSeconds":60}])"),
                           custom),
            kNow + absl::Seconds(60));
}

TEST(NodeLifecycleTest, BadTolerationsAreNamed) {
  std::vector<Taint> taints = {*ReadinessTaint("False", kNow)};
  EXPECT_EQ(std::string(EvictionTime(json::parse(R"([{"operator":"Sometimes"}])"), taints).status().message()),
            "spec.tolerations[0].operator: want Equal or Exists");
  EXPECT_EQ(std::string(EvictionTime(json::parse(R"([{"key":"node.kubernetes.io/not-ready","tolerationSeconds":"5"}])"),
                                     taints)
                            .status()
                            .message()),
            "spec.tolerations[0].tolerationSeconds: not an integer");
  EXPECT_EQ(std::string(EvictionTime(json::parse(R"({"a":1})"), taints).status().message()),
            "spec.tolerations: not a list");
}

}  // namespace
}  // namespace berth::controllers
