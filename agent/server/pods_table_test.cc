#include "agent/server/pods_table.h"

#include "api/k8s/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::HasSubstr;

k8s::Pod Pod(const std::string& json) {
  auto p = k8s::DecodePodJson(json);
  if (!p.ok()) abort();
  return *p;
}

TEST(PodsTableTest, StatusColumnFollowsKubectl) {
  auto running = Pod(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]},
    "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":true,"restartCount":0,"image":"i","imageID":"","state":{"running":{}}}]}})");
  EXPECT_EQ(PodStatusColumn(running), "Running");
  auto crash = Pod(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]},
    "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":false,"restartCount":3,"image":"i","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})");
  EXPECT_EQ(PodStatusColumn(crash), "CrashLoopBackOff");
  auto init = Pod(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"initContainers":[{"name":"i1","image":"i"},{"name":"i2","image":"i"}],"containers":[{"name":"c","image":"i"}]},
    "status":{"phase":"Pending","initContainerStatuses":[{"name":"i1","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},{"name":"i2","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"running":{}}}]}})");
  EXPECT_EQ(PodStatusColumn(init), "Init:1/2");
  auto done = Pod(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]},
    "status":{"phase":"Succeeded","containerStatuses":[{"name":"c","ready":false,"restartCount":0,"image":"i","imageID":"","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})");
  EXPECT_EQ(PodStatusColumn(done), "Completed");
}

TEST(PodsTableTest, Table) {
  std::string list = R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-n","namespace":"default"},"spec":{"containers":[{"name":"c","image":"i"}]},
     "status":{"phase":"Running","startTime":"2024-01-01T00:00:00Z","containerStatuses":[{"name":"c","ready":true,"restartCount":2,"image":"i","imageID":"","state":{"running":{}}}]}}]})";
  auto t = FormatPodsTable(list, absl::FromUnixSeconds(1704067200 + 75));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(*t, HasSubstr("NAME"));
  EXPECT_THAT(*t, HasSubstr("web-n"));
  EXPECT_THAT(*t, HasSubstr("1/1"));
  EXPECT_THAT(*t, HasSubstr("Running"));
  EXPECT_THAT(*t, HasSubstr(" 2 "));
  EXPECT_THAT(*t, HasSubstr("75s"));
  EXPECT_FALSE(FormatPodsTable("[]", absl::Now()).ok());
}

TEST(PodsTableTest, HumanAge) {
  EXPECT_EQ(HumanAge(absl::Seconds(5)), "5s");
  EXPECT_EQ(HumanAge(absl::Seconds(190)), "3m10s");
  EXPECT_EQ(HumanAge(absl::Minutes(30)), "30m");
  EXPECT_EQ(HumanAge(absl::Hours(5)), "5h");
  EXPECT_EQ(HumanAge(absl::Hours(72)), "3d");
  // kubectl's HumanDuration keeps a second unit while it says something.
  EXPECT_EQ(HumanAge(absl::Hours(5) + absl::Minutes(20)), "5h20m");
  EXPECT_EQ(HumanAge(absl::Hours(80)), "3d8h");
  EXPECT_EQ(HumanAge(absl::Hours(24 * 400)), "400d");
  EXPECT_EQ(HumanAge(-absl::Seconds(1)), "0s");
}

}  // namespace
}  // namespace berth::agent
