#include "runtime-shim/cgroups/cgroupfs_v2.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cgroups/cgroup_files.h"
#include "runtime-shim/cgroups/test_tree.h"

namespace berth {
namespace {

std::string Trimmed(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : "<" + text.status().ToString() + ">";
}

TEST(CpuSharesToWeightTest, KubeletMapping) {
  EXPECT_EQ(CpuSharesToWeight(2), 1u);
  EXPECT_EQ(CpuSharesToWeight(0), 1u);
  EXPECT_EQ(CpuSharesToWeight(1024), 39u);
  EXPECT_EQ(CpuSharesToWeight(262144), 10000u);
}

// A fake unified hierarchy: the knob files a real one would have, as plain files.
class CgroupfsV2FakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tree_.Path("cgroup");
    tree_.Write("cgroup/cgroup.subtree_control", "");
    for (const char* dir : {"kubepods", "kubepods/pod1"}) {
      for (const char* knob : {"cgroup.subtree_control", "cpu.weight", "cpu.max", "cpuset.cpus", "cpuset.mems",
                               "memory.max", "memory.swap.max", "memory.high", "pids.max", "hugetlb.2MB.max"}) {
        tree_.Write(absl::StrCat("cgroup/", dir, "/", knob), "");
      }
    }
    layout_.version = 2;
    layout_.root = root_;
    layout_.unified_dir = root_;
    layout_.unified_controllers = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};
    manager_ = std::make_unique<CgroupfsV2Manager>(layout_);
  }

  TempTree tree_;
  std::string root_;
  CgroupLayout layout_;
  std::unique_ptr<CgroupfsV2Manager> manager_;
};

TEST_F(CgroupfsV2FakeTreeTest, CreateEnablesControllersAndWritesKnobs) {
  CgroupResources r;
  r.cpu_shares = 1024;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.memory_limit = 256 << 20;
  r.memory_swap_limit = 384 << 20;
  r.pids_limit = 0;
  r.hugepage_limits["2MB"] = 2 << 21;
  r.unified["memory.high"] = "200M";
  absl::Status status = manager_->Create("/kubepods/pod1", r);
  ASSERT_TRUE(status.ok()) << status;
  const std::string want_controllers = "+cpu +memory +pids +io +cpuset +hugetlb";
  EXPECT_EQ(Trimmed(root_ + "/cgroup.subtree_control"), want_controllers);
  EXPECT_EQ(Trimmed(root_ + "/kubepods/cgroup.subtree_control"), want_controllers);
  EXPECT_EQ(Trimmed(root_ + "/kubepods/pod1/cgroup.subtree_control"), "") << "the leaf keeps its own";
  std::string dir = root_ + "/kubepods/pod1";
  EXPECT_EQ(Trimmed(dir + "/cpu.weight"), "39");
  EXPECT_EQ(Trimmed(dir + "/cpu.max"), "50000 100000");
  EXPECT_EQ(Trimmed(dir + "/cpuset.cpus"), "0-1");
  EXPECT_EQ(Trimmed(dir + "/cpuset.mems"), "0");
  EXPECT_EQ(Trimmed(dir + "/memory.max"), absl::StrCat(256 << 20));
  EXPECT_EQ(Trimmed(dir + "/memory.swap.max"), absl::StrCat(128 << 20));
  EXPECT_EQ(Trimmed(dir + "/pids.max"), "max");
  EXPECT_EQ(Trimmed(dir + "/hugetlb.2MB.max"), absl::StrCat(2 << 21));
  EXPECT_EQ(Trimmed(dir + "/memory.high"), "200M");

  absl::StatusOr<std::vector<std::string>> dirs = manager_->ProcsDirs("kubepods/pod1");
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(*dirs, std::vector<std::string>{dir});
  EXPECT_EQ(manager_->MemoryDir("/kubepods/pod1"), dir);
}

TEST_F(CgroupfsV2FakeTreeTest, UpdatePeriodKeepsQuota) {
  tree_.Write("cgroup/kubepods/pod1/cpu.max", "50000 100000\n");
  CgroupResources r;
  r.cpu_period = 200000;
  ASSERT_TRUE(manager_->Update("/kubepods/pod1", r).ok());
  EXPECT_EQ(Trimmed(root_ + "/kubepods/pod1/cpu.max"), "50000 200000");
  r = {};
  r.cpu_quota = -1;
  tree_.Write("cgroup/kubepods/pod1/cpu.max", "");  // a plain file keeps old bytes past a short write
  ASSERT_TRUE(manager_->Update("/kubepods/pod1", r).ok());
  EXPECT_EQ(Trimmed(root_ + "/kubepods/pod1/cpu.max"), "max") << "a lone quota keeps the kernel's period";
}

TEST_F(CgroupfsV2FakeTreeTest, FailedCreateRemovesWhatItMade) {
  CgroupResources r;
  r.memory_limit = 1 << 20;  // the fake new dir has no memory.max
  absl::Status status = manager_->Create("/kubepods/pod2/ctr", r);
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_NE(status.message().find("/kubepods/pod2"), absl::string_view::npos) << status;
  EXPECT_FALSE(PathExists(root_ + "/kubepods/pod2"));
  EXPECT_TRUE(PathExists(root_ + "/kubepods/pod1"));
}

TEST_F(CgroupfsV2FakeTreeTest, BadInputIsRefusedBeforeAnyWrite) {
  CgroupResources swap_only;
  swap_only.memory_swap_limit = 1 << 20;
  absl::Status status = manager_->Create("/kubepods/pod3", swap_only);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("memory_swap_limit"), absl::string_view::npos);
  EXPECT_FALSE(PathExists(root_ + "/kubepods/pod3"));

  CgroupResources escape;
  escape.unified["../../etc/passwd"] = "x";
  status = manager_->Update("/kubepods/pod1", escape);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;

  layout_.unified_controllers = {"cpu", "memory"};
  CgroupfsV2Manager no_hugetlb(layout_);
  CgroupResources huge;
  huge.hugepage_limits["1GB"] = 1 << 30;
  status = no_hugetlb.Update("/kubepods/pod1", huge);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("hugepage_limits[1GB]"), absl::string_view::npos) << status;
  EXPECT_EQ(Trimmed(root_ + "/cgroup.subtree_control"), "");

  CgroupResources bad_size;
  bad_size.hugepage_limits["3MB"] = 1;
  status = manager_->Update("/kubepods/pod1", bad_size);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

TEST_F(CgroupfsV2FakeTreeTest, StatsAndOomCountFromFiles) {
  tree_.Write("cgroup/kubepods/pod1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  tree_.Write("cgroup/kubepods/pod1/memory.current", "1000\n");
  tree_.Write("cgroup/kubepods/pod1/memory.stat", "anon 600\nfile 400\ninactive_file 300\npgfault 7\npgmajfault 2\n");
  tree_.Write("cgroup/kubepods/pod1/pids.current", "3\n");
  tree_.Write("cgroup/kubepods/pod1/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  absl::StatusOr<CgroupStats> stats = manager_->Stats("/kubepods/pod1");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->cpu_usage_ns, 1500000u);
  EXPECT_EQ(stats->memory_usage, 1000u);
  EXPECT_EQ(stats->memory_working_set, 700u);
  EXPECT_EQ(stats->memory_rss, 600u);
  EXPECT_EQ(stats->page_faults, 7u);
  EXPECT_EQ(stats->major_page_faults, 2u);
  EXPECT_EQ(stats->pids_current, 3u);
  absl::StatusOr<uint64_t> ooms = manager_->OomKillCount("/kubepods/pod1");
  ASSERT_TRUE(ooms.ok()) << ooms.status();
  EXPECT_EQ(*ooms, 1u);
}

// The real cgroup2 mount (the whole root on v2 hosts, /sys/fs/cgroup/unified on
// hybrid ones): a child joins, Destroy kills it through cgroup.kill.
TEST(CgroupfsV2RealTest, DestroyKillsWithCgroupKill) {
  std::string root;
  for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs;
    if (::statfs(candidate, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) root = candidate;
  }
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  CgroupLayout layout;
  layout.version = 2;
  layout.root = layout.unified_dir = root;
  CgroupfsV2Manager manager(layout);
  std::string top = absl::StrCat("/berth-test-v2-", getpid());
  std::string name = top + "/ctr";
  pid_t child = -1;
  struct Cleanup {
    std::string dir;
    pid_t* child;
    ~Cleanup() {
      if (*child > 0) {
        ::kill(*child, SIGKILL);
        ::waitpid(*child, nullptr, 0);
      }
      (void)RemoveCgroupTreeSoon(dir, 1000);
    }
  } cleanup{root + top, &child};

  ASSERT_TRUE(manager.Create(name, {}).ok());
  std::string procs = root + name + "/cgroup.procs";
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open(procs.c_str(), O_WRONLY);
    char ok = (fd >= 0 && ::write(fd, "0", 1) == 1) ? '1' : '0';
    (void)::write(pipefd[1], &ok, 1);
    while (true) ::pause();
  }
  ::close(pipefd[1]);
  char ok = 0;
  ASSERT_EQ(::read(pipefd[0], &ok, 1), 1);
  ::close(pipefd[0]);
  ASSERT_EQ(ok, '1');

  absl::StatusOr<std::vector<pid_t>> pids = manager.Pids(top);
  ASSERT_TRUE(pids.ok()) << pids.status();
  EXPECT_EQ(*pids, std::vector<pid_t>{child});
  absl::StatusOr<CgroupStats> stats = manager.Stats(name);
  ASSERT_TRUE(stats.ok()) << stats.status();

  absl::Status status = manager.Destroy(top);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_FALSE(PathExists(root + top));
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  child = -1;
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  EXPECT_TRUE(manager.Destroy(top).ok()) << "missing is OK";
}

}  // namespace
}  // namespace berth
