#include "agent/pod/pod_cgroups.h"

#include <stdlib.h>

#include <map>

#include "agent/pod/test_pods.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::ElementsAre;
using testing::MakePod;

// Records what the pod cgroups ask of the cgroup manager.
class FakeCgroups : public CgroupManager {
 public:
  std::string Driver() const override { return "cgroupfs"; }
  int Version() const override { return 1; }
  absl::Status Create(const std::string& name, const CgroupResources& r) override {
    created[name] = r;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ProcsDirs(const std::string&) override { return std::vector<std::string>{}; }
  std::string MemoryDir(const std::string& name) override { return memory_root.empty() ? "" : memory_root + name; }
  absl::StatusOr<uint64_t> OomKillCount(const std::string&) override { return 0; }
  absl::Status Update(const std::string&, const CgroupResources&) override { return absl::OkStatus(); }
  absl::StatusOr<CgroupStats> Stats(const std::string&) override { return CgroupStats{}; }
  absl::StatusOr<std::vector<pid_t>> Pids(const std::string&) override { return std::vector<pid_t>{}; }
  absl::Status Destroy(const std::string& name) override {
    destroyed.push_back(name);
    return absl::OkStatus();
  }
  std::map<std::string, CgroupResources> created;
  std::vector<std::string> destroyed;
  std::string memory_root;  // a fake memory hierarchy (ListPodUids)
};

k8s::Pod PodWithResources(const std::string& resources) {
  return MakePod(R"(apiVersion: v1
kind: Pod
metadata: {name: p, uid: u1}
spec:
  containers:
  - {name: app, image: busybox, resources: )" + resources + "}\n");
}

TEST(PodCgroupsTest, PodsGoUnderTheirQosTier) {
  PodCgroupsOptions o{"/berth", true, -1};
  EXPECT_EQ(PodCgroupName(o, "Guaranteed", "u1"), "/berth/kubepods/podu1");
  EXPECT_EQ(PodCgroupName(o, "Burstable", "u1"), "/berth/kubepods/burstable/podu1");
  EXPECT_EQ(PodCgroupName(o, "BestEffort", "u1"), "/berth/kubepods/besteffort/podu1");
  EXPECT_EQ(PodCgroupName({"", true, -1}, "BestEffort", "u1"), "/kubepods/besteffort/podu1");
  EXPECT_EQ(PodCgroupName({"/", false, -1}, "Burstable", "u1"), "/podu1");

  FakeCgroups fake;
  PodCgroups cgroups(&fake, o);
  EXPECT_EQ(cgroups.NameFor(PodWithResources("{limits: {cpu: 100m, memory: 64Mi}}")), "/berth/kubepods/podu1");
  EXPECT_EQ(cgroups.NameFor(PodWithResources("{requests: {cpu: 100m}}")), "/berth/kubepods/burstable/podu1");
  EXPECT_EQ(cgroups.NameFor(PodWithResources("{}")), "/berth/kubepods/besteffort/podu1");
}

TEST(PodCgroupsTest, TiersThenPodWithItsPidsLimitAndRemovalInAnyTier) {
  FakeCgroups fake;
  PodCgroups cgroups(&fake, {"/berth", true, 100});
  ASSERT_TRUE(cgroups.EnsureTiers().ok());
  ASSERT_TRUE(cgroups.Create(PodWithResources("{requests: {memory: 10Mi}}")).ok());
  ASSERT_EQ(fake.created.size(), 4u);
  EXPECT_EQ(fake.created["/berth/kubepods/besteffort"].cpu_shares, 2u);
  EXPECT_FALSE(fake.created["/berth/kubepods/burstable"].cpu_shares.has_value());
  EXPECT_EQ(fake.created["/berth/kubepods/burstable/podu1"].pids_limit, 100);
  ASSERT_TRUE(cgroups.Destroy("u1").ok());
  EXPECT_THAT(fake.destroyed, ElementsAre("/berth/kubepods/podu1", "/berth/kubepods/burstable/podu1",
                                          "/berth/kubepods/besteffort/podu1"));
}

TEST(PodCgroupsTest, NoPidsLimitLeavesPidsMaxAlone) {
  FakeCgroups fake;
  PodCgroups cgroups(&fake, {"/berth", true, -1});
  ASSERT_TRUE(cgroups.Create(PodWithResources("{}")).ok());
  EXPECT_FALSE(fake.created["/berth/kubepods/besteffort/podu1"].pids_limit.has_value());
}

TEST(PodCgroupsTest, ListsTheKubeletsPodCgroupsInEveryTierButNotTheRuntimes) {
  char tmpl[] = "/tmp/pod-cgroups-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  FakeCgroups fake;
  fake.memory_root = root;
  PodCgroups cgroups(&fake, {"/berth", true, -1});
  auto none = cgroups.ListPodUids();
  ASSERT_TRUE(none.ok()) << none.status();  // no tiers yet
  EXPECT_TRUE(none->empty());
  for (const char* dir : {"/berth/kubepods/podg1", "/berth/kubepods/burstable/podb1", "/berth/kubepods/burstable/podb2",
                          "/berth/kubepods/besteffort/pode1", "/berth/pod-0123456789ab", "/berth/kubepods/pod-abc"}) {
    ASSERT_TRUE(MkdirAll(root + dir).ok()) << dir;
  }
  ASSERT_TRUE(AtomicWriteFile(root + "/berth/kubepods/burstable/pods.file", "").ok());  // not a directory
  auto uids = cgroups.ListPodUids();
  ASSERT_TRUE(uids.ok()) << uids.status();
  EXPECT_THAT(*uids, ElementsAre("b1", "b2", "e1", "g1"));
  EXPECT_TRUE(RemoveAll(root).ok());
}

}  // namespace
}  // namespace berth::agent
