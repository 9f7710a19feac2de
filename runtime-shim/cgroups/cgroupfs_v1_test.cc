// Runs against this host's real cgroup v1 hierarchies (skipped elsewhere).
#include "runtime-shim/cgroups/cgroupfs_v1.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cgroups/cgroup_files.h"
#include "runtime-shim/cgroups/cgroup_layout.h"

namespace berth {
namespace {

std::string Trimmed(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : "<" + text.status().ToString() + ">";
}

class CgroupfsV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout("/sys/fs/cgroup", "/proc/self/mountinfo");
    ASSERT_TRUE(layout.ok()) << layout.status();
    if (layout->version != 1) GTEST_SKIP() << "not a cgroup v1 host";
    layout_ = *layout;
    manager_ = std::make_unique<CgroupfsV1Manager>(layout_);
    top_ = absl::StrCat("/berth-test-", getpid());
  }

  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (!manager_) return;
    (void)manager_->Destroy(top_);
    for (const std::string& dir : layout_.V1Dirs()) (void)RemoveCgroupTree(dir + top_);
    if (!layout_.unified_dir.empty()) (void)RemoveCgroupTree(layout_.unified_dir + top_);
    // The host's cgroup2 root is left as the test found it.
    if (disable_unified_hugetlb_) (void)WriteKnob(layout_.unified_dir + "/cgroup.subtree_control", "-hugetlb");
  }

  // Forks a child that joins `name` in every hierarchy, then waits to be killed.
  void StartChildIn(const std::string& name) {
    absl::StatusOr<std::vector<std::string>> dirs = manager_->ProcsDirs(name);
    ASSERT_TRUE(dirs.ok()) << dirs.status();
    std::vector<std::string> procs;
    for (const std::string& dir : *dirs) procs.push_back(dir + "/cgroup.procs");
    int pipefd[2];
    ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      char ok = '1';
      for (const std::string& path : procs) {
        int fd = ::open(path.c_str(), O_WRONLY);
        if (fd < 0 || ::write(fd, "0", 1) != 1) ok = '0';
        ::close(fd);
      }
      (void)::write(pipefd[1], &ok, 1);
      while (true) ::pause();
    }
    ::close(pipefd[1]);
    char ok = 0;
    ASSERT_EQ(::read(pipefd[0], &ok, 1), 1);
    ::close(pipefd[0]);
    ASSERT_EQ(ok, '1') << "child could not join every hierarchy";
  }

  CgroupLayout layout_;
  std::unique_ptr<CgroupfsV1Manager> manager_;
  std::string top_;
  pid_t child_ = -1;
  bool disable_unified_hugetlb_ = false;
};

TEST_F(CgroupfsV1Test, CreateWritesLimitsInEveryHierarchy) {
  std::string name = top_ + "/pod/ctr";
  CgroupResources r;
  r.cpu_shares = 512;
  r.cpu_period = 50000;
  r.cpu_quota = 25000;
  r.memory_limit = 64 << 20;
  r.pids_limit = 100;
  ASSERT_TRUE(manager_->Create(name, r).ok());
  absl::StatusOr<std::vector<std::string>> dirs = manager_->ProcsDirs(name);
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(dirs->size(), layout_.V1Dirs().size() + (layout_.unified_dir.empty() ? 0 : 1));
  for (const std::string& dir : *dirs) EXPECT_TRUE(PathExists(dir + "/cgroup.procs")) << dir;
  EXPECT_EQ(Trimmed(layout_.V1Dir("cpu") + name + "/cpu.shares"), "512");
  EXPECT_EQ(Trimmed(layout_.V1Dir("cpu") + name + "/cpu.cfs_period_us"), "50000");
  EXPECT_EQ(Trimmed(layout_.V1Dir("cpu") + name + "/cpu.cfs_quota_us"), "25000");
  EXPECT_EQ(Trimmed(manager_->MemoryDir(name) + "/memory.limit_in_bytes"), absl::StrCat(64 << 20));
  EXPECT_EQ(Trimmed(layout_.V1Dir("pids") + name + "/pids.max"), "100");
  if (!layout_.V1Dir("cpuset").empty()) {
    std::string want = Trimmed(layout_.V1Dir("cpuset") + "/cpuset.cpus");
    EXPECT_EQ(Trimmed(layout_.V1Dir("cpuset") + top_ + "/pod/cpuset.cpus"), want);
    EXPECT_EQ(Trimmed(layout_.V1Dir("cpuset") + name + "/cpuset.cpus"), want);
    EXPECT_FALSE(Trimmed(layout_.V1Dir("cpuset") + name + "/cpuset.mems").empty());
  }
  // Idempotent.
  EXPECT_TRUE(manager_->Create(name, r).ok());
  absl::StatusOr<uint64_t> ooms = manager_->OomKillCount(name);
  ASSERT_TRUE(ooms.ok()) << ooms.status();
  EXPECT_EQ(*ooms, 0u);

  ASSERT_TRUE(manager_->Destroy(top_).ok());
  for (const std::string& dir : *dirs) EXPECT_FALSE(PathExists(dir)) << dir;
  for (const std::string& dir : layout_.V1Dirs()) EXPECT_FALSE(PathExists(dir + top_)) << dir;
  EXPECT_TRUE(manager_->Destroy(top_).ok()) << "missing is OK";
}

TEST_F(CgroupfsV1Test, UpdateChangesMemoryLimit) {
  ASSERT_TRUE(manager_->Create(top_, {}).ok());
  CgroupResources r;
  r.memory_limit = 32 << 20;
  ASSERT_TRUE(manager_->Update(top_, r).ok());
  EXPECT_EQ(Trimmed(manager_->MemoryDir(top_) + "/memory.limit_in_bytes"), absl::StrCat(32 << 20));
  r.memory_limit = -1;
  r.memory_swap_limit = -1;
  r.pids_limit = 0;
  r.cpu_quota = -1;
  ASSERT_TRUE(manager_->Update(top_, r).ok());
  EXPECT_GT(std::stoull(Trimmed(manager_->MemoryDir(top_) + "/memory.limit_in_bytes")), uint64_t{1} << 40);
  EXPECT_EQ(Trimmed(layout_.V1Dir("pids") + top_ + "/pids.max"), "max");
  EXPECT_EQ(Trimmed(layout_.V1Dir("cpu") + top_ + "/cpu.cfs_quota_us"), "-1");
}

TEST_F(CgroupfsV1Test, DestroyKillsWhatIsLeft) {
  std::string name = top_ + "/ctr";
  ASSERT_TRUE(manager_->Create(name, {}).ok());
  ASSERT_NO_FATAL_FAILURE(StartChildIn(name));

  absl::StatusOr<std::vector<pid_t>> pids = manager_->Pids(name);
  ASSERT_TRUE(pids.ok()) << pids.status();
  EXPECT_EQ(*pids, std::vector<pid_t>{child_});
  absl::StatusOr<CgroupStats> stats = manager_->Stats(name);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->pids_current, 1u);
  EXPECT_GT(stats->memory_usage, 0u);
  EXPECT_GT(stats->cpu_usage_ns, 0u);
  EXPECT_GT(stats->timestamp_ns, 0);

  ASSERT_TRUE(manager_->Destroy(top_).ok());
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child_, &wstatus, 0), child_);
  child_ = -1;
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  for (const std::string& dir : layout_.V1Dirs()) EXPECT_FALSE(PathExists(dir + top_)) << dir;
}

TEST_F(CgroupfsV1Test, BadInputChangesNothing) {
  CgroupResources v2_only;
  v2_only.unified["memory.high"] = "1G";
  absl::Status status = manager_->Create(top_, v2_only);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("unified"), absl::string_view::npos) << status;
  EXPECT_TRUE(absl::IsInvalidArgument(manager_->Create("/a/../../etc", {})));
  EXPECT_TRUE(absl::IsInvalidArgument(manager_->Create("/", {})));

  // The kernel refuses the cpuset: everything this call made is removed again.
  CgroupResources bad_cpus;
  bad_cpus.cpuset_cpus = "4095";
  if (layout_.V1Dir("cpuset").empty()) GTEST_SKIP() << "no cpuset hierarchy";
  status = manager_->Create(top_ + "/pod", bad_cpus);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cpuset.cpus"), absl::string_view::npos) << status;
  for (const std::string& dir : layout_.V1Dirs()) EXPECT_FALSE(PathExists(dir + top_)) << dir;
}

TEST_F(CgroupfsV1Test, DeviceRulesReplaceAllowAll) {
  if (layout_.V1Dir("devices").empty()) GTEST_SKIP() << "no devices hierarchy";
  CgroupResources r;
  r.device_rules = {"c 1:3 rwm", "c 1:5 rw"};
  ASSERT_TRUE(manager_->Create(top_, r).ok());
  EXPECT_EQ(Trimmed(layout_.V1Dir("devices") + top_ + "/devices.list"), "c 1:3 rwm\nc 1:5 rw");
  CgroupResources bad;
  bad.device_rules = {"q 1:3 rwm"};
  absl::Status status = manager_->Update(top_, bad);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

TEST_F(CgroupfsV1Test, HugepageLimitGoesToUnifiedHierarchy) {
  if (!layout_.V1Dir("hugetlb").empty() || layout_.unified_controllers.count("hugetlb") == 0 ||
      !PathExists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
    GTEST_SKIP() << "needs hugetlb only in the cgroup2 mount and 2MB pages";
  }
  std::string root_control = layout_.unified_dir + "/cgroup.subtree_control";
  bool was_enabled = Trimmed(root_control).find("hugetlb") != std::string::npos;
  disable_unified_hugetlb_ = !was_enabled;
  CgroupResources r;
  r.hugepage_limits["2MB"] = 4 << 21;
  absl::Status status = manager_->Create(top_ + "/pod", r);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Trimmed(layout_.unified_dir + top_ + "/pod/hugetlb.2MB.max"), absl::StrCat(4 << 21));
  CgroupResources bad;
  bad.hugepage_limits["3MB"] = 1;
  status = manager_->Update(top_ + "/pod", bad);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(manager_->Destroy(top_).ok());
  if (!was_enabled) {
    EXPECT_TRUE(WriteKnob(root_control, "-hugetlb").ok());
    disable_unified_hugetlb_ = false;
  }
}

}  // namespace
}  // namespace berth
