#include "controlplane/berthadm/preflight.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

class PreflightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berthadm-preflight-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    host_.proc_dir = dir_ + "/proc";
    host_.manifests_dir = dir_ + "/etc/kubernetes/manifests";
    host_.kubeconfig_dir = dir_ + "/etc/kubernetes";
    host_.controlplane_data_dir = dir_ + "/var/lib/berth/controlplane";
    host_.cri_socket = dir_ + "/berth.sock";
    host_.bind_address = "127.0.0.1";
    host_.ports = {};
    // A healthy host: 2 CPUs, 4 GiB, no swap, forwarding on, every controller.
    Write("proc/stat", "cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\nintr 0\n");
    Write("proc/meminfo", "MemTotal:        4194304 kB\nMemFree: 1 kB\n");
    Write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    Write("proc/sys/net/ipv4/ip_forward", "1\n");
    Write("proc/cgroups",
          "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t1\t1\t1\ncpu\t2\t1\t1\ncpuacct\t2\t1\t1\n"
          "memory\t3\t1\t1\npids\t4\t1\t1\n");
    ASSERT_TRUE(MkdirAll(host_.manifests_dir).ok());
    cri_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, host_.cri_socket.c_str());
    ASSERT_EQ(bind(cri_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(cri_fd_, 4), 0);
  }
  void TearDown() override {
    if (cri_fd_ >= 0) close(cri_fd_);
    if (port_fd_ >= 0) close(port_fd_);
    (void)RemoveAll(dir_);
  }
  void Write(const std::string& rel, const std::string& text) {
    std::string path = dir_ + "/" + rel;
    ASSERT_TRUE(MkdirAll(path.substr(0, path.rfind('/'))).ok());
    ASSERT_TRUE(AtomicWriteFile(path, text).ok());
  }
  // A port taken by a listening socket on 127.0.0.1.
  int TakePort() {
    port_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(port_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(port_fd_, 1);
    socklen_t len = sizeof addr;
    getsockname(port_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }
  std::vector<PreflightCheck> ChecksWithoutRoot() {
    std::vector<PreflightCheck> checks;
    for (auto& c : InitPreflightChecks()) {
      if (c.name != "IsPrivilegedUser") checks.push_back(c);
    }
    return checks;
  }

  std::string dir_;
  PreflightHost host_;
  int cri_fd_ = -1;
  int port_fd_ = -1;
};

TEST_F(PreflightTest, AHealthyHostPasses) {
  PreflightReport report = RunPreflight(InitPreflightChecks(), host_, {});
  EXPECT_FALSE(report.HasErrors()) << report.Text();
  EXPECT_TRUE(report.findings.empty()) << report.Text();
  EXPECT_FALSE(RunPreflight(JoinPreflightChecks(), host_, {}).HasErrors());
}

TEST_F(PreflightTest, EachProblemIsNamedAsKubeadmNamesIt) {
  Write("proc/stat", "cpu  1 2 3\ncpu0 1 2 3\n");
  Write("proc/meminfo", "MemTotal:        1024000 kB\n");
  Write("proc/sys/net/ipv4/ip_forward", "0\n");
  Write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t1\t1\ncpuacct\t2\t1\t1\n"
                        "cpuset\t1\t1\t1\nmemory\t3\t1\t0\n");
  Write("etc/kubernetes/manifests/berth-controlplane.yaml", "kind: Pod\n");
  Write("etc/kubernetes/admin.conf", "x");
  Write("var/lib/berth/controlplane/cp.db", "x");
  close(cri_fd_);
  cri_fd_ = -1;
  int port = TakePort();
  host_.ports = {port};
  PreflightReport report = RunPreflight(ChecksWithoutRoot(), host_, {});
  ASSERT_TRUE(report.HasErrors());
  std::string text = report.Text();
  for (const std::string& want :
       {std::string("[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2"),
        std::string("[ERROR Mem]: the system RAM (1000 MB) is less than the minimum 1700 MB"),
        absl::StrCat("[ERROR Port-", port, "]: Port ", port, " is in use"),
        std::string("[ERROR FileContent--proc-sys-net-ipv4-ip_forward]"),
        std::string("[ERROR SystemVerification]: CGROUPS_MEMORY: missing"),
        std::string("[ERROR SystemVerification]: CGROUPS_PIDS: missing"),
        std::string("[ERROR CRI]: container runtime is not running"),
        std::string("[ERROR FileAvailable--etc-kubernetes-manifests-berth-controlplane.yaml]"),
        std::string("[ERROR FileAvailable--etc-kubernetes-admin.conf]"),
        std::string("[ERROR DirAvailable--etc-kubernetes-manifests]"),
        std::string("[ERROR DirAvailable--var-lib-berth-controlplane]")}) {
    EXPECT_TRUE(absl::StrContains(text, want)) << "missing " << want << " in:\n" << text;
  }
  EXPECT_TRUE(absl::StrContains(text, "Some fatal errors occurred")) << text;
}

TEST_F(PreflightTest, SwapIsAWarningOnly) {
  Write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n");
  PreflightReport report = RunPreflight(ChecksWithoutRoot(), host_, {});
  EXPECT_FALSE(report.HasErrors()) << report.Text();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].check, "Swap");
  EXPECT_TRUE(absl::StrContains(report.Text(), "[WARNING Swap]")) << report.Text();
}

TEST_F(PreflightTest, IgnoredChecksBecomeWarningsByNameOrAll) {
  Write("proc/sys/net/ipv4/ip_forward", "0\n");
  int port = TakePort();
  host_.ports = {port};
  auto some = ParseIgnoredPreflightErrors(absl::StrCat("filecontent--proc-sys-net-ipv4-ip_forward, Port-", port));
  ASSERT_TRUE(some.ok()) << some.status();
  PreflightReport report = RunPreflight(ChecksWithoutRoot(), host_, *some);
  EXPECT_FALSE(report.HasErrors()) << report.Text();
  EXPECT_EQ(report.findings.size(), 2u);
  EXPECT_TRUE(absl::StrContains(report.Text(), absl::StrCat("[WARNING Port-", port, "]"))) << report.Text();

  // Only the named ones: the CRI error stays.
  close(cri_fd_);
  cri_fd_ = -1;
  EXPECT_TRUE(RunPreflight(ChecksWithoutRoot(), host_, *some).HasErrors());
  auto all = ParseIgnoredPreflightErrors("all");
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(RunPreflight(ChecksWithoutRoot(), host_, *all).HasErrors());
}

TEST_F(PreflightTest, BadIgnoreListsAreRefused) {
  auto empty_name = ParseIgnoredPreflightErrors("Swap,,CRI");
  EXPECT_EQ(empty_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(empty_name.status().message(), "--ignore-preflight-errors")) << empty_name.status();
  EXPECT_FALSE(ParseIgnoredPreflightErrors("all,Swap").ok());
  auto none = ParseIgnoredPreflightErrors("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace berth::berthadm
