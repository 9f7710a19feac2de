// Security settings as a process inside the container sees them.
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

// containerd's (and Docker's) default set: CHOWN DAC_OVERRIDE FOWNER FSETID
// KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD
// AUDIT_WRITE SETFCAP.
constexpr char kDefaultCaps[] = "00000000a80425fb";
constexpr uint64_t kCapChown = 1ull << 0;
constexpr uint64_t kCapNetAdmin = 1ull << 12;

// The value of "Field:" in a /proc/<pid>/status text.
std::string StatusField(absl::string_view status, absl::string_view field) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, field) && absl::ConsumePrefix(&line, ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

uint64_t Hex(const std::string& text) { return std::stoull(text, nullptr, 16); }

class SecurityTest : public CriE2eTest {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (HasFatalFailure()) return;
    pod_ = PodConfig("security");
    auto pod_id = client_->RunPodSandbox(pod_);
    ASSERT_TRUE(pod_id.ok()) << pod_id.status();
    pod_id_ = *pod_id;
  }

  // A sleeper with `context` applied; its /proc/self/status seen by ExecSync.
  absl::StatusOr<std::string> StatusInside(const std::string& name,
                                           const v1::LinuxContainerSecurityContext& context) {
    v1::ContainerConfig config = MinimalContainerConfig(name, kBusybox, {});
    *config.mutable_linux()->mutable_security_context() = context;
    ASSIGN_OR_RETURN(std::string id, RunSleeper(pod_id_, pod_, config));
    ASSIGN_OR_RETURN(v1::ExecSyncResponse out, client_->ExecSync(id, {"cat", "/proc/self/status"}, 10));
    return out.stdout();
  }

  absl::StatusOr<std::string> Sleeper(const std::string& name,
                                      const v1::LinuxContainerSecurityContext& context) {
    v1::ContainerConfig config = MinimalContainerConfig(name, kBusybox, {});
    *config.mutable_linux()->mutable_security_context() = context;
    return RunSleeper(pod_id_, pod_, config);
  }

  v1::PodSandboxConfig pod_;
  std::string pod_id_;
};

TEST_F(SecurityTest, DefaultCapabilities) {
  E2E_ASSERT_OK_AND_ASSIGN(std::string status, StatusInside("default", {}));
  EXPECT_EQ(StatusField(status, "CapEff"), kDefaultCaps);
  EXPECT_EQ(StatusField(status, "CapBnd"), kDefaultCaps);
  EXPECT_EQ(StatusField(status, "NoNewPrivs"), "0");
}

TEST_F(SecurityTest, AddAndDropCapabilities) {
  v1::LinuxContainerSecurityContext add;
  add.mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  E2E_ASSERT_OK_AND_ASSIGN(std::string added, StatusInside("add", add));
  EXPECT_EQ(Hex(StatusField(added, "CapEff")), Hex(kDefaultCaps) | kCapNetAdmin);

  v1::LinuxContainerSecurityContext drop;
  drop.mutable_capabilities()->add_drop_capabilities("CHOWN");
  E2E_ASSERT_OK_AND_ASSIGN(std::string dropped, StatusInside("drop", drop));
  EXPECT_EQ(Hex(StatusField(dropped, "CapEff")), Hex(kDefaultCaps) & ~kCapChown);
}

TEST_F(SecurityTest, PrivilegedGetsTheWholeBoundingSet) {
  // containerd refuses a privileged container in an unprivileged sandbox.
  v1::PodSandboxConfig pod = PodConfig("privileged");
  pod.mutable_linux()->mutable_security_context()->set_privileged(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig("privileged", kBusybox, {});
  config.mutable_linux()->mutable_security_context()->set_privileged(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, config));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse out,
                           client_->ExecSync(id, {"cat", "/proc/self/status"}, 10));
  E2E_ASSERT_OK_AND_ASSIGN(std::string ours, ReadFile("/proc/self/status"));
  EXPECT_EQ(StatusField(out.stdout(), "CapEff"), StatusField(ours, "CapBnd"));
}

TEST_F(SecurityTest, Seccomp) {
  // RuntimeDefault without SYS_ADMIN: unshare is refused.
  v1::LinuxContainerSecurityContext runtime_default;
  runtime_default.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  E2E_ASSERT_OK_AND_ASSIGN(std::string confined, Sleeper("confined", runtime_default));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse refused,
                           client_->ExecSync(confined, {"unshare", "-m", "true"}, 10));
  EXPECT_NE(refused.exit_code(), 0);

  // RuntimeDefault with SYS_ADMIN: the filter itself still refuses swapoff
  // (EPERM), which the capability alone would allow to fail with ENOENT.
  // containerd's default profile, like Docker's, does allow unshare once
  // SYS_ADMIN is added.
  v1::LinuxContainerSecurityContext default_admin = runtime_default;
  default_admin.mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  E2E_ASSERT_OK_AND_ASSIGN(std::string confined_admin, Sleeper("confined-admin", default_admin));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse swapoff_filtered,
                           client_->ExecSync(confined_admin, {"swapoff", "/nonexistent"}, 10));
  EXPECT_NE(swapoff_filtered.exit_code(), 0);
  EXPECT_TRUE(absl::StrContains(swapoff_filtered.stderr(), "Operation not permitted"))
      << swapoff_filtered.stderr();
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse unshare_admin,
                           client_->ExecSync(confined_admin, {"unshare", "-m", "true"}, 10));
  RecordProperty("runtime_default_sys_admin_unshare_exit", unshare_admin.exit_code());

  // Unconfined with SYS_ADMIN: both get through to the kernel.
  v1::LinuxContainerSecurityContext unconfined;
  unconfined.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
  unconfined.mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  E2E_ASSERT_OK_AND_ASSIGN(std::string free, Sleeper("unconfined", unconfined));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse allowed,
                           client_->ExecSync(free, {"unshare", "-m", "true"}, 10));
  EXPECT_EQ(allowed.exit_code(), 0) << allowed.stderr();
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse swapoff_free,
                           client_->ExecSync(free, {"swapoff", "/nonexistent"}, 10));
  EXPECT_TRUE(absl::StrContains(swapoff_free.stderr(), "No such file"))
      << swapoff_free.stderr();
}

TEST_F(SecurityTest, RunAsUser) {
  v1::LinuxContainerSecurityContext context;
  context.mutable_run_as_user()->set_value(1000);
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, Sleeper("user", context));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse out, client_->ExecSync(id, {"id", "-u"}, 10));
  EXPECT_EQ(out.stdout(), "1000\n");
}

TEST_F(SecurityTest, ReadonlyRootfs) {
  v1::LinuxContainerSecurityContext context;
  context.set_readonly_rootfs(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, Sleeper("readonly", context));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse out, client_->ExecSync(id, {"touch", "/x"}, 10));
  EXPECT_NE(out.exit_code(), 0);
  EXPECT_TRUE(absl::StrContains(out.stderr(), "Read-only file system")) << out.stderr();
}

TEST_F(SecurityTest, NoNewPrivs) {
  v1::LinuxContainerSecurityContext context;
  context.set_no_new_privs(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string status, StatusInside("nnp", context));
  EXPECT_EQ(StatusField(status, "NoNewPrivs"), "1");
}

}  // namespace
}  // namespace berth::e2e
