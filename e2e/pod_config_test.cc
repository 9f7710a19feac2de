// What a pod's and a container's configuration look like from inside:
// hostname, DNS, sysctls, the shared pid namespace, mounts, masked and
// read-only paths, user by name, env and working dir.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

class PodConfigTest : public CriE2eTest {
 protected:
  // Runs `sh -c script` in `id` and returns its stdout (stderr appended).
  std::string Sh(const std::string& id, const std::string& script) {
    auto out = client_->ExecSync(id, {"sh", "-c", script}, 10);
    if (!out.ok()) return "exec failed: " + std::string(out.status().message());
    return out->stdout() + out->stderr();
  }
};

TEST_F(PodConfigTest, HostnameDnsAndSysctls) {
  v1::PodSandboxConfig pod = PodConfig("netcfg");
  pod.set_hostname("berth-pod");
  pod.mutable_dns_config()->add_servers("127.0.0.10");
  pod.mutable_dns_config()->add_searches("default.svc.cluster.local");
  pod.mutable_dns_config()->add_options("ndots:5");
  (*pod.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "0";
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, MinimalContainerConfig("c", kBusybox, {})));
  EXPECT_EQ(Sh(id, "hostname"), "berth-pod\n");
  std::string resolv = Sh(id, "cat /etc/resolv.conf");
  EXPECT_TRUE(absl::StrContains(resolv, "nameserver 127.0.0.10")) << resolv;
  EXPECT_TRUE(absl::StrContains(resolv, "search default.svc.cluster.local")) << resolv;
  EXPECT_TRUE(absl::StrContains(resolv, "options ndots:5")) << resolv;
  EXPECT_TRUE(absl::StrContains(Sh(id, "cat /etc/hosts"), "localhost"));
  EXPECT_EQ(Sh(id, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start"), "0\n");
  // Only loopback until CNI: and it is up.
  EXPECT_TRUE(absl::StrContains(Sh(id, "ip -o link show lo || cat /sys/class/net/lo/operstate"), "UP") ||
              absl::StrContains(Sh(id, "cat /sys/class/net/lo/flags"), "0x9"));
}

TEST_F(PodConfigTest, PidNamespaceSharedOnlyWhenAsked) {
  v1::PodSandboxConfig shared = PodConfig("shared-pid");
  shared.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  E2E_ASSERT_OK_AND_ASSIGN(std::string shared_id, client_->RunPodSandbox(shared));
  v1::ContainerConfig a = MinimalContainerConfig("a", kBusybox, {"sleep", "3601"});
  a.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  E2E_ASSERT_OK(CreateAndStart(shared_id, shared, a));
  v1::ContainerConfig b = MinimalContainerConfig("b", kBusybox, {});
  b.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  E2E_ASSERT_OK_AND_ASSIGN(std::string b_id, RunSleeper(shared_id, shared, b));
  EXPECT_TRUE(absl::StrContains(Sh(b_id, "ps -o args"), "sleep 3601"));

  v1::PodSandboxConfig own = PodConfig("own-pid");
  own.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  E2E_ASSERT_OK_AND_ASSIGN(std::string own_id, client_->RunPodSandbox(own));
  v1::ContainerConfig c = MinimalContainerConfig("c", kBusybox, {"sleep", "3602"});
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  E2E_ASSERT_OK(CreateAndStart(own_id, own, c));
  v1::ContainerConfig d = MinimalContainerConfig("d", kBusybox, {});
  d.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  E2E_ASSERT_OK_AND_ASSIGN(std::string d_id, RunSleeper(own_id, own, d));
  std::string ps = Sh(d_id, "ps -o pid,args");
  EXPECT_FALSE(absl::StrContains(ps, "sleep 3602")) << ps;
  EXPECT_TRUE(absl::StrContains(ps, "    1 sleep 3600")) << ps;
}

TEST_F(PodConfigTest, MountsMaskedAndReadonlyPaths) {
  const std::string host_dir = runtime_->root() + "/volume";
  E2E_ASSERT_OK(MkdirAll(host_dir));
  E2E_ASSERT_OK(AtomicWriteFile(host_dir + "/hello", "from the host\n"));
  v1::PodSandboxConfig pod = PodConfig("mounts");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig("c", kBusybox, {});
  auto* ro = config.add_mounts();
  ro->set_container_path("/data");
  ro->set_host_path(host_dir);
  ro->set_readonly(true);
  auto* rw = config.add_mounts();
  rw->set_container_path("/rw");
  rw->set_host_path(host_dir);
  // The kubelet's default proc mount sends these lists (shortened here).
  auto* sc = config.mutable_linux()->mutable_security_context();
  sc->add_masked_paths("/proc/timer_list");
  sc->add_masked_paths("/proc/acpi");
  sc->add_readonly_paths("/proc/sys");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, config));
  EXPECT_EQ(Sh(id, "cat /data/hello"), "from the host\n");
  EXPECT_TRUE(absl::StrContains(Sh(id, "touch /data/x"), "Read-only file system"));
  EXPECT_EQ(Sh(id, "echo written > /rw/out && echo ok"), "ok\n");
  EXPECT_EQ(ReadFile(host_dir + "/out").value_or(""), "written\n");
  EXPECT_EQ(Sh(id, "wc -c < /proc/timer_list"), "0\n");
  EXPECT_EQ(Sh(id, "ls /proc/acpi | wc -l"), "0\n");
  EXPECT_TRUE(absl::StrContains(Sh(id, "echo 1 > /proc/sys/kernel/ns_last_pid"), "Read-only file system"));
}

TEST_F(PodConfigTest, UserByNameEnvAndWorkingDir) {
  v1::PodSandboxConfig pod = PodConfig("user");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig("c", kBusybox, {});
  config.mutable_linux()->mutable_security_context()->set_run_as_username("berth");
  config.set_working_dir("/tmp");
  auto* env = config.add_envs();
  env->set_key("GREETING");
  env->set_value("hello berth");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, config));
  EXPECT_EQ(Sh(id, "id -u; id -g"), "1000\n1000\n");
  EXPECT_EQ(Sh(id, "echo $GREETING; pwd"), "hello berth\n/tmp\n");
}

}  // namespace
}  // namespace berth::e2e
