#include "controlplane/controllers/pod_state.h"

#include "controlplane/controllers/object_refs.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;

json Pod(const std::string& phase, const std::string& ready, const std::string& since) {
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
          {"spec", {{"nodeName", "n1"}}},
          {"status",
           {{"phase", phase},
            {"conditions", json::array({{{"type", "Ready"}, {"status", ready}, {"lastTransitionTime", since}}})},
            {"containerStatuses", json::array({{{"restartCount", 3}}, {{"restartCount", 5}}})}}}};
}

TEST(PodStateTest, ActiveReadyAvailable) {
  absl::Time since = absl::FromUnixSeconds(1'800'000'000);
  json pod = Pod("Running", "True", FormatApiTime(since));
  EXPECT_TRUE(IsPodActive(pod));
  EXPECT_TRUE(IsPodReady(pod));
  EXPECT_TRUE(IsPodAvailable(pod, 0, since));
  EXPECT_FALSE(IsPodAvailable(pod, 10, since + absl::Seconds(9)));
  EXPECT_TRUE(IsPodAvailable(pod, 10, since + absl::Seconds(10)));
  EXPECT_EQ(PodAvailableAt(pod, 10), since + absl::Seconds(10));

  json not_ready = Pod("Running", "False", FormatApiTime(since));
  EXPECT_FALSE(IsPodReady(not_ready));
  EXPECT_FALSE(IsPodAvailable(not_ready, 0, since));
  EXPECT_EQ(PodAvailableAt(not_ready, 0), std::nullopt);

  EXPECT_FALSE(IsPodActive(Pod("Succeeded", "False", "")));
  EXPECT_FALSE(IsPodActive(Pod("Failed", "False", "")));
  json deleting = pod;
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z";
  EXPECT_FALSE(IsPodActive(deleting));
  EXPECT_TRUE(IsBeingDeleted(deleting));
}

TEST(PodStateTest, RankingTakesTheMostRestartsAndReadySince) {
  PodForRanking r = RankingOf(Pod("Running", "True", "2026-01-01T00:00:05Z"));
  EXPECT_EQ(r.name, "p");
  EXPECT_EQ(r.node_name, "n1");
  EXPECT_EQ(r.phase, "Running");
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.restarts, 5);
  EXPECT_EQ(r.ready_since_unix - r.created_unix, 5);
}

TEST(ObjectRefsTest, KeysAndControllerRefs) {
  json owner = {{"metadata", {{"name", "web"}, {"namespace", "prod"}, {"uid", "u-1"}}}};
  EXPECT_EQ(KeyOf(owner), "prod/web");
  EXPECT_EQ(KeyOf("", "node-1"), "node-1");
  EXPECT_EQ(SplitKey("prod/web"), std::make_pair(std::string("prod"), std::string("web")));
  EXPECT_EQ(SplitKey("node-1"), std::make_pair(std::string(""), std::string("node-1")));

  json ref = NewControllerRef(owner, "apps/v1", "ReplicaSet");
  EXPECT_EQ(ref["uid"], "u-1");
  EXPECT_EQ(ref["controller"], true);
  json pod = {{"metadata", {{"ownerReferences", json::array({{{"uid", "other"}, {"controller", false}}, ref})}}}};
  EXPECT_EQ(ControllerRefOf(pod), ref);
  pod["metadata"]["ownerReferences"].erase(1);
  EXPECT_EQ(ControllerRefOf(pod), std::nullopt);
}

TEST(ObjectRefsTest, ApiTimesRoundTrip) {
  absl::Time t = absl::FromUnixSeconds(1'800'000'123);
  EXPECT_EQ(ParseApiTime(FormatApiTime(t)), t);
  EXPECT_EQ(ParseApiTime("not a time"), absl::InfinitePast());
  EXPECT_EQ(ParseApiTime(json()), absl::InfinitePast());
}

}  // namespace
}  // namespace berth::controllers
