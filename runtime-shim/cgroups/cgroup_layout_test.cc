#include "runtime-shim/cgroups/cgroup_layout.h"

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cgroups/cgroup_manager.h"
#include "runtime-shim/cgroups/test_tree.h"

namespace berth {
namespace {

constexpr char kHybridMountinfo[] =
    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 1 0:40 / /other/cgroup rw - cgroup cgroup rw,pids\n";

TEST(ParseCgroupLayoutTest, HybridHost) {
  CgroupLayout layout = ParseCgroupLayout("/sys/fs/cgroup/", kHybridMountinfo, false);
  EXPECT_EQ(layout.version, 1);
  EXPECT_EQ(layout.V1Dir("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout.V1Dir("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout.V1Dir("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout.V1Dir("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(layout.V1Dir("pids"), "") << "a mount outside the root is not ours";
  EXPECT_EQ(layout.V1Dir("rw"), "");
  EXPECT_EQ(layout.unified_dir, "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout.V1Dirs(), (std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset",
                                                        "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"}));
}

TEST(ParseCgroupLayoutTest, UnifiedHost) {
  CgroupLayout layout =
      ParseCgroupLayout("/sys/fs/cgroup", "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", false);
  EXPECT_EQ(layout.version, 2);
  EXPECT_EQ(layout.unified_dir, "/sys/fs/cgroup");
  EXPECT_TRUE(layout.v1_mounts.empty());
}

TEST(ParseCgroupLayoutTest, EscapedMountPoint) {
  CgroupLayout layout =
      ParseCgroupLayout("/tmp/a b", "30 23 0:26 / /tmp/a\\040b/memory rw - cgroup cgroup rw,memory\n", false);
  EXPECT_EQ(layout.V1Dir("memory"), "/tmp/a b/memory");
}

TEST(DetectCgroupLayoutTest, FakeUnifiedTreeFromMountinfo) {
  TempTree tree;
  tree.Write("cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  tree.Write("proc/self/mountinfo", absl::StrCat("30 23 0:26 / ", tree.Path("cgroup"), " rw - cgroup2 cgroup2 rw\n"));
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout(tree.Path("cgroup"), tree.Path("proc/self/mountinfo"));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->version, 2);
  EXPECT_EQ(layout->unified_controllers, (std::set<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
}

TEST(DetectCgroupLayoutTest, FallsBackToWellKnownDirs) {
  TempTree tree;
  tree.Write("proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
  for (const char* dir : {"cpu,cpuacct", "memory", "systemd", "unified"}) {
    ASSERT_TRUE(MkdirAll(tree.Path(absl::StrCat("cgroup/", dir))).ok());
  }
  tree.Write("cgroup/unified/cgroup.controllers", "hugetlb\n");
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout(tree.Path("cgroup"), tree.Path("proc/self/mountinfo"));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->version, 1);
  EXPECT_EQ(layout->V1Dir("cpuacct"), tree.Path("cgroup/cpu,cpuacct"));
  EXPECT_EQ(layout->V1Dir("memory"), tree.Path("cgroup/memory"));
  EXPECT_EQ(layout->V1Dir("name=systemd"), tree.Path("cgroup/systemd"));
  EXPECT_EQ(layout->unified_dir, tree.Path("cgroup/unified"));
  EXPECT_EQ(layout->unified_controllers, std::set<std::string>{"hugetlb"});
}

TEST(DetectCgroupLayoutTest, NoHierarchiesIsAnError) {
  TempTree tree;
  tree.Write("proc/self/mountinfo", "");
  ASSERT_TRUE(MkdirAll(tree.Path("cgroup")).ok());
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout(tree.Path("cgroup"), tree.Path("proc/self/mountinfo"));
  EXPECT_TRUE(absl::IsFailedPrecondition(layout.status())) << layout.status();
}

TEST(DetectCgroupLayoutTest, ThisHost) {
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout("/sys/fs/cgroup", "/proc/self/mountinfo");
  ASSERT_TRUE(layout.ok()) << layout.status();
  if (layout->version == 1) {
    EXPECT_FALSE(layout->V1Dir("memory").empty());
  } else {
    EXPECT_EQ(layout->unified_dir, "/sys/fs/cgroup");
  }
}

TEST(DetectCgroupDriverTest, SystemdOnlyWhenPid1IsSystemdAndRunDirExists) {
  TempTree tree;
  tree.Write("proc/1/comm", "systemd\n");
  ASSERT_TRUE(MkdirAll(tree.Path("run/systemd/system")).ok());
  EXPECT_EQ(DetectCgroupDriver(tree.Path("proc"), tree.Path("run/systemd/system")), "systemd");
  EXPECT_EQ(DetectCgroupDriver(tree.Path("proc"), tree.Path("run/none")), "cgroupfs");
  tree.Write("proc/1/comm", "tini\n");
  EXPECT_EQ(DetectCgroupDriver(tree.Path("proc"), tree.Path("run/systemd/system")), "cgroupfs");
}

TEST(NewCgroupManagerTest, PicksCgroupfsV2OnFakeTree) {
  TempTree tree;
  tree.Write("cgroup/cgroup.controllers", "cpu memory\n");
  tree.Write("proc/self/mountinfo", absl::StrCat("30 23 0:26 / ", tree.Path("cgroup"), " rw - cgroup2 cgroup2 rw\n"));
  tree.Write("proc/1/comm", "init\n");
  CgroupOptions options;
  options.root = tree.Path("cgroup");
  options.proc_root = tree.Path("proc");
  absl::StatusOr<std::unique_ptr<CgroupManager>> manager = NewCgroupManager(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ((*manager)->Driver(), "cgroupfs");
  EXPECT_EQ((*manager)->Version(), 2);
  EXPECT_EQ((*manager)->MemoryDir("/kubepods/pod1"), tree.Path("cgroup/kubepods/pod1"));

  options.driver = "lxc";
  manager = NewCgroupManager(options);
  EXPECT_TRUE(absl::IsInvalidArgument(manager.status())) << manager.status();
  EXPECT_NE(manager.status().message().find("lxc"), absl::string_view::npos);
}

}  // namespace
}  // namespace berth
