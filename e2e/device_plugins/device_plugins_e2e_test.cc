// berth-agent with device plugins (test-device-plugin, a generic v1beta1
// plugin): registration and capacity on /node, two pods getting different
// devices (seen from inside the containers), a third pod failing admission,
// unhealthy devices, a plugin restart, an agent restart keeping allocations
// (and how fast plugins are back), PreStartContainer and GetPreferredAllocation,
// and a CDI device injected from a spec file in a temporary dir.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kWidget[] = "example.com/widget";

std::string WidgetPod(const std::string& name, int widgets, const std::string& extra_metadata = "") {
  return absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata:
  name: )", name, "\n", extra_metadata, R"(spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sleep, "3600"]
    resources:
      limits: {example.com/widget: )", widgets, "}\n");
}

struct WidgetCounts {
  int64_t capacity = -1, allocatable = -1;
  bool connected = false;
};

class DevicePluginsTest : public AgentTest {
 protected:
  void SetUp() override {
    AgentTest::SetUp();
    if (IsSkipped()) return;
    plugins_dir_ = dir_ + "/device-plugins";
    cdi_dir_ = dir_ + "/cdi";
    extra_flags_ = {"--device-plugins-dir", plugins_dir_, "--device-plugin-grace-period", "3s",
                    "--cdi-spec-dirs", cdi_dir_};
  }
  void TearDown() override {
    AgentTest::TearDown();  // pods first, while the plugin still answers
    StopPlugin(SIGTERM);
  }

  void StartPlugin(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {TEST_DEVICE_PLUGIN_PATH, "--plugins-dir", plugins_dir_, "--device-dir",
                                     dir_ + "/devnodes", "--devices", "2", "--health-file", dir_ + "/unhealthy"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/plugin.log").c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    ASSERT_EQ(posix_spawn(&plugin_pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  void StopPlugin(int sig) {
    if (plugin_pid_ <= 0) return;
    kill(plugin_pid_, sig);
    waitpid(plugin_pid_, nullptr, 0);
    plugin_pid_ = -1;
  }
  void SetUnhealthy(const std::string& ids) { ASSERT_TRUE(AtomicWriteFile(dir_ + "/unhealthy", ids).ok()); }

  absl::StatusOr<nlohmann::json> Node() {
    ASSIGN_OR_RETURN(std::string body, Get("/node"));
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return absl::InternalError("/node is not JSON: " + body);
    return j;
  }
  WidgetCounts Widgets() {
    WidgetCounts c;
    auto node = Node();
    if (!node.ok()) return c;
    auto quantity = [&](const char* field) -> int64_t {
      const auto& list = (*node)["status"][field];
      if (!list.contains(kWidget)) return -1;
      return std::stoll(list[kWidget].get<std::string>());
    };
    c.capacity = quantity("capacity");
    c.allocatable = quantity("allocatable");
    auto plugins = nlohmann::json::parse(
        (*node)["metadata"]["annotations"].value("devices.berth.dev/plugins", std::string("{}")), nullptr, false);
    c.connected = plugins.is_object() && plugins.value(kWidget, std::string()) == "connected";
    return c;
  }
  // Polls /node until the widget counts match (capacity -1: the resource is absent).
  bool WaitWidgets(int64_t capacity, int64_t allocatable, bool connected, absl::Duration timeout = absl::Seconds(10)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      WidgetCounts c = Widgets();
      if (c.capacity == capacity && c.allocatable == allocatable && c.connected == connected) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    WidgetCounts c = Widgets();
    ADD_FAILURE() << "widgets: capacity " << c.capacity << " allocatable " << c.allocatable << " connected "
                  << c.connected << "; wanted " << capacity << "/" << allocatable << "/" << connected;
    return false;
  }

  absl::StatusOr<k8s::Pod> WaitRunning(const std::string& name) {
    return WaitForPod(name + "-e2e-node", IsRunningAndReady, absl::Seconds(60));
  }
  // Runs `script` in the pod's only container; its stdout.
  absl::StatusOr<std::string> Exec(const k8s::Pod& pod, const std::string& script) {
    std::string id = pod.status.containerStatuses.at(0).containerID.substr(std::string("berth://").size());
    ASSIGN_OR_RETURN(auto resp, client_->ExecSync(id, {"sh", "-c", script}, 10));
    if (resp.exit_code() != 0) return absl::InternalError(absl::StrCat("exit ", resp.exit_code(), ": ", resp.stderr()));
    return std::string(absl::StripAsciiWhitespace(resp.stdout()));
  }

  std::string plugins_dir_, cdi_dir_;
  pid_t plugin_pid_ = -1;
};

TEST_F(DevicePluginsTest, TwoPodsGetDifferentDevicesAndAThirdFailsAdmission) {
  AGENT_ASSERT_OK(StartAgent());
  StartPlugin();
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 1)));
  AGENT_ASSERT_OK(WriteManifest("b.yaml", WidgetPod("b", 1)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  auto b = WaitRunning("b");
  AGENT_ASSERT_OK(b.status());
  // Inside each container: its own device id in the env, and that device's node (and only it).
  std::set<std::string> ids;
  for (const auto* pod : {&*a, &*b}) {
    auto seen = Exec(*pod, "echo $WIDGET_IDS $(ls /dev | grep widget); head -c 0 /dev/widget*");
    AGENT_ASSERT_OK(seen.status());
    ASSERT_TRUE(*seen == "w0 widget0" || *seen == "w1 widget1") << *seen;
    ids.insert(*seen);
    // The allocated ids are shown on /pods.
    EXPECT_EQ(pod->metadata.annotations.count("devices.berth.dev/allocated"), 1u);
  }
  EXPECT_EQ(ids.size(), 2u);
  // The third pod: no device left.
  AGENT_ASSERT_OK(WriteManifest("c.yaml", WidgetPod("c", 1)));
  auto c = WaitForPod("c-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; }, absl::Seconds(20));
  AGENT_ASSERT_OK(c.status());
  EXPECT_EQ(c->status.reason, "UnexpectedAdmissionError");
  EXPECT_THAT(c->status.message, HasSubstr("requested number of devices unavailable for example.com/widget. "
                                           "Requested: 1, Available: 0"));
  // Pod a gone: its device goes to the next pod.
  AGENT_ASSERT_OK(RemoveManifest("a.yaml"));
  AGENT_ASSERT_OK(WaitForNoPod("a-e2e-node", absl::Seconds(30)));
  AGENT_ASSERT_OK(WriteManifest("d.yaml", WidgetPod("d", 1)));
  auto d = WaitRunning("d");
  AGENT_ASSERT_OK(d.status());
  auto seen = Exec(*d, "echo $WIDGET_IDS $(ls /dev | grep widget)");
  AGENT_ASSERT_OK(seen.status());
  EXPECT_EQ(ids.count(*seen), 1u);
}

TEST_F(DevicePluginsTest, UnhealthyDevicesAreNotGivenAndPodsUsingThemKeepRunning) {
  AGENT_ASSERT_OK(StartAgent());
  SetUnhealthy("w0\n");
  StartPlugin();
  ASSERT_TRUE(WaitWidgets(2, 1, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 1)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  auto seen = Exec(*a, "echo $WIDGET_IDS");
  AGENT_ASSERT_OK(seen.status());
  EXPECT_EQ(*seen, "w1");
  // w1 fails while the pod uses it: the pod keeps it and keeps running.
  SetUnhealthy("w0\nw1\n");
  ASSERT_TRUE(WaitWidgets(2, 0, true));
  AGENT_ASSERT_OK(WriteManifest("b.yaml", WidgetPod("b", 1)));
  auto b = WaitForPod("b-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; }, absl::Seconds(20));
  AGENT_ASSERT_OK(b.status());
  EXPECT_EQ(b->status.reason, "UnexpectedAdmissionError");
  auto still = WaitRunning("a");
  AGENT_ASSERT_OK(still.status());
  EXPECT_EQ(still->status.containerStatuses[0].containerID, a->status.containerStatuses[0].containerID);
  // Healthy again: allocatable again.
  SetUnhealthy("");
  ASSERT_TRUE(WaitWidgets(2, 2, true));
}

TEST_F(DevicePluginsTest, PluginRestartRegistersAgainAndAGoneOneLosesItsDevices) {
  AGENT_ASSERT_OK(StartAgent());
  StartPlugin();
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 1)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  StopPlugin(SIGKILL);
  // Listed, unhealthy, within the grace period (3 s here).
  ASSERT_TRUE(WaitWidgets(2, 0, false));
  StartPlugin();
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  StopPlugin(SIGKILL);
  absl::Time gone = absl::Now();
  ASSERT_TRUE(WaitWidgets(-1, -1, false, absl::Seconds(10)));
  EXPECT_GE(absl::Now() - gone, absl::Seconds(2));
  // The pod that holds a device keeps running through all of it.
  auto still = WaitRunning("a");
  AGENT_ASSERT_OK(still.status());
  EXPECT_EQ(still->status.containerStatuses[0].containerID, a->status.containerStatuses[0].containerID);
}

TEST_F(DevicePluginsTest, AgentRestartKeepsAllocationsAndPluginsAreBackWithinASecond) {
  AGENT_ASSERT_OK(StartAgent());
  StartPlugin();
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 1)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  auto a_ids = Exec(*a, "echo $WIDGET_IDS");
  AGENT_ASSERT_OK(a_ids.status());

  AGENT_ASSERT_OK(runtime_->KillMainProcess());
  absl::Time begin = absl::Now();
  AGENT_ASSERT_OK(runtime_->Restart());
  absl::Time restarted = absl::Now();
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  absl::Time back = absl::Now();
  fprintf(stderr, "agent restart: CRI socket back after %s, plugin registered again and capacity served %s later\n",
          absl::FormatDuration(restarted - begin).c_str(), absl::FormatDuration(back - restarted).c_str());
  EXPECT_LT(back - restarted, absl::Seconds(1));

  // Pod a keeps its container and its device; a new pod gets the other one.
  auto still = WaitRunning("a");
  AGENT_ASSERT_OK(still.status());
  EXPECT_EQ(still->status.containerStatuses[0].containerID, a->status.containerStatuses[0].containerID);
  AGENT_ASSERT_OK(WriteManifest("b.yaml", WidgetPod("b", 1)));
  auto b = WaitRunning("b");
  AGENT_ASSERT_OK(b.status());
  auto b_ids = Exec(*b, "echo $WIDGET_IDS");
  AGENT_ASSERT_OK(b_ids.status());
  EXPECT_NE(*a_ids, *b_ids);
}

TEST_F(DevicePluginsTest, PreferredAllocationAndPreStartContainer) {
  AGENT_ASSERT_OK(StartAgent());
  StartPlugin({"--preferred", "--pre-start", "--pre-start-log", dir_ + "/pre-start.log"});
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 1)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  auto seen = Exec(*a, "echo $WIDGET_IDS");
  AGENT_ASSERT_OK(seen.status());
  EXPECT_EQ(*seen, "w1");  // the test plugin prefers the last available id
  auto log = ReadFile(dir_ + "/pre-start.log");
  AGENT_ASSERT_OK(log.status());
  EXPECT_EQ(*log, "w1\n");
}

TEST_F(DevicePluginsTest, CdiDevicesFromTheSpecFileAreInjectedAndItsHooksRun) {
  AGENT_ASSERT_OK(StartAgent());
  const std::string hook_log = dir_ + "/cdi-hooks.log";
  StartPlugin({"--cdi-spec-dir", cdi_dir_, "--cdi-hook-log", hook_log});
  ASSERT_TRUE(WaitWidgets(2, 2, true));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", WidgetPod("a", 2)));
  auto a = WaitRunning("a");
  AGENT_ASSERT_OK(a.status());
  // Device nodes, per-device and spec-wide env, all from the CDI spec.
  auto seen = Exec(*a, "echo $WIDGET_VENDOR $WIDGET_CDI_0 $WIDGET_CDI_1 $(ls /dev | grep widget | tr '\\n' ' ');"
                       "cat /dev/widget0 /dev/widget1");  // readable (c 1:3: empty)
  AGENT_ASSERT_OK(seen.status());
  EXPECT_EQ(*seen, "example yes yes widget0 widget1");
  // The spec's OCI hooks: createContainer and startContainer inside the container, the others on the host.
  auto inside = Exec(*a, "cat /tmp/cdi-hooks");
  AGENT_ASSERT_OK(inside.status());
  EXPECT_EQ(*inside, "createContainer\nstartContainer");
  auto host = ReadFile(hook_log);
  AGENT_ASSERT_OK(host.status());
  EXPECT_EQ(*host, "createRuntime\npoststart\n");
  // poststop when the container is removed (here at once rather than at the kubelet's next relist).
  AGENT_ASSERT_OK(RemoveManifest("a.yaml"));
  std::string id = a->status.containerStatuses.at(0).containerID.substr(std::string("berth://").size());
  absl::Status stopped = client_->StopContainer(id, 0);  // the kubelet may have removed it already
  EXPECT_TRUE(stopped.ok() || absl::IsNotFound(stopped)) << stopped;
  AGENT_ASSERT_OK(client_->RemoveContainer(id));
  EXPECT_EQ(ReadFile(hook_log).value_or(""), "createRuntime\npoststart\npoststop\n");
}

}  // namespace
}  // namespace berth::e2e
