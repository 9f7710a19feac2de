// The security context as a container sees it (its own log of id, /proc/self/status,
// a write to its root), runAsNonRoot checked against the image's user, and the
// pod's QoS class with its cgroup under the node's QoS tiers (pids.max from --pod-max-pids).
#include <sys/stat.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

// Waits until the container's log (restart 0) has `marker`; returns the messages, one per line.
absl::StatusOr<std::vector<std::string>> LogLines(const std::string& path, const std::string& marker) {
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    auto text = ReadFile(path);
    if (text.ok() && absl::StrContains(*text, marker)) {
      std::vector<std::string> lines;
      for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
        // <time> <stream> <P|F> <message>
        std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 3));
        if (f.size() == 4) lines.emplace_back(f[3]);
      }
      return lines;
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError("no " + marker + " in " + path);
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::string Field(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines) {
    if (absl::StartsWith(l, prefix)) return std::string(absl::StripAsciiWhitespace(l.substr(prefix.size())));
  }
  return "(no " + prefix + ")";
}

TEST_F(AgentTest, SecurityContextSeenFromInsideTheContainer) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("sec.yaml", R"yaml(apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], runAsNonRoot: true}
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, 'echo "uid: $(id -u)"; echo "gid: $(id -g)"; echo "groups: $(id -G)"; grep -E "^(CapBnd|CapEff|NoNewPrivs):" /proc/self/status; if touch /rootfs-write 2>/dev/null; then echo "rootfs: writable"; else echo "rootfs: readonly"; fi; echo END; exec sleep 3600']
    securityContext:
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
)yaml"));
  auto pod = WaitForPod("sec-e2e-node", IsRunningAndReady, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  auto lines = LogLines(PodLogDir(*pod) + "/app/0.log", "END");
  AGENT_ASSERT_OK(lines.status());
  EXPECT_EQ(Field(*lines, "uid:"), "1000");
  EXPECT_EQ(Field(*lines, "gid:"), "2000");
  EXPECT_THAT(Field(*lines, "groups:"), HasSubstr("3000"));
  EXPECT_EQ(Field(*lines, "CapBnd:"), "0000000000000400");  // NET_BIND_SERVICE (bit 10) only
  EXPECT_EQ(Field(*lines, "NoNewPrivs:"), "1");
  EXPECT_EQ(Field(*lines, "rootfs:"), "readonly");
}

TEST_F(AgentTest, RunAsNonRootIsCheckedAgainstTheImage) {
  AGENT_ASSERT_OK(StartAgent());
  // busybox runs as root: refused before anything is created.
  AGENT_ASSERT_OK(WriteManifest("root.yaml", BusyboxPod("root", "exec sleep 3600", "Always",
                                                        "  securityContext: {runAsNonRoot: true}\n")));
  auto pod = WaitForPod("root-e2e-node", [](const k8s::Pod& p) {
    return !p.status.containerStatuses.empty() && p.status.containerStatuses[0].state.waiting &&
           p.status.containerStatuses[0].state.waiting->reason == "CreateContainerConfigError";
  }, absl::Seconds(30));
  AGENT_ASSERT_OK(pod.status());
  EXPECT_THAT(pod->status.containerStatuses[0].state.waiting->message,
              HasSubstr("container has runAsNonRoot and image will run as root"));
  EXPECT_EQ(pod->status.phase, "Pending");
  auto containers = ContainersOf("root-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  EXPECT_TRUE(containers->empty());
  AGENT_ASSERT_OK(WaitForEvent({"Failed", "root-e2e-node", "runAsNonRoot"}, absl::Seconds(5)));
}

TEST_F(AgentTest, QosClassAndPodCgroupUnderItsTierWithPidsLimit) {
  extra_flags_ = {"--pod-max-pids", "64"};
  AGENT_ASSERT_OK(StartAgent());
  struct Case {
    std::string name, resources, qos, tier;
  };
  std::vector<Case> cases = {
      {"guaranteed", "{limits: {cpu: 100m, memory: 64Mi}}", "Guaranteed", "kubepods"},
      {"burstable", "{requests: {cpu: 50m}}", "Burstable", "kubepods/burstable"},
      {"besteffort", "{}", "BestEffort", "kubepods/besteffort"},
  };
  for (const auto& c : cases) {
    AGENT_ASSERT_OK(WriteManifest(c.name + ".yaml", absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata: {name: )", c.name, R"(}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "exec sleep 3600"], resources: )", c.resources, R"(}
)")));
  }
  const std::string pids_root = "/sys/fs/cgroup/pids";
  for (const auto& c : cases) {
    auto pod = WaitForPod(c.name + "-e2e-node", IsRunningAndReady, absl::Seconds(40));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(pod->status.qosClass, c.qos) << c.name;
    std::string cgroup = absl::StrCat(runtime_->cgroup_parent(), "/", c.tier, "/pod", pod->metadata.uid);
    auto id = RunningContainerId(c.name + "-e2e-node", "app");
    AGENT_ASSERT_OK(id.status());
    if (PathExists(pids_root)) {
      // The container's cgroup is the runtime's, below the pod cgroup.
      EXPECT_TRUE(PathExists(absl::StrCat(pids_root, cgroup, "/", *id))) << c.name << " is not under " << cgroup;
      auto max = ReadFile(pids_root + cgroup + "/pids.max");
      AGENT_ASSERT_OK(max.status());
      EXPECT_EQ(*max, "64\n") << c.name;
    }
  }
  std::string burstable_dir =
      absl::StrCat(pids_root, runtime_->cgroup_parent(), "/kubepods/burstable");
  // kill -9 of the agent, and a pod cgroup left by a pod that went while it
  // was down: the restarted agent adopts the pods in their cgroups (same
  // containers) and removes the orphan.
  std::map<std::string, std::string> ids;
  for (const auto& c : cases) {
    auto id = RunningContainerId(c.name + "-e2e-node", "app");
    AGENT_ASSERT_OK(id.status());
    ids[c.name] = *id;
  }
  AGENT_ASSERT_OK(runtime_->KillMainProcess());
  // In every hierarchy, as a pod cgroup is.
  const std::string orphan_name =
      absl::StrCat(runtime_->cgroup_parent(), "/kubepods/burstable/pod0123456789abcdef0123456789abcdef");
  const std::string orphan = pids_root + orphan_name;
  const std::string orphan_memory = "/sys/fs/cgroup/memory" + orphan_name;
  if (PathExists(pids_root)) {
    ASSERT_EQ(mkdir(orphan.c_str(), 0755), 0) << orphan;
    ASSERT_EQ(mkdir(orphan_memory.c_str(), 0755), 0) << orphan_memory;
  }
  AGENT_ASSERT_OK(runtime_->Restart());
  for (const auto& c : cases) {
    auto pod = WaitForPod(c.name + "-e2e-node", IsRunningAndReady, absl::Seconds(30));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(pod->status.containerStatuses[0].containerID, "berth://" + ids[c.name]) << c.name;
    EXPECT_EQ(pod->status.containerStatuses[0].restartCount, 0) << c.name;
    std::string cgroup = absl::StrCat(runtime_->cgroup_parent(), "/", c.tier, "/pod", pod->metadata.uid);
    if (PathExists(pids_root)) {
      EXPECT_TRUE(PathExists(absl::StrCat(pids_root, cgroup, "/", ids[c.name]))) << c.name << " left " << cgroup;
    }
  }
  if (PathExists(pids_root)) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while ((PathExists(orphan) || PathExists(orphan_memory)) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_FALSE(PathExists(orphan)) << "the orphaned pod cgroup is still there";
    EXPECT_FALSE(PathExists(orphan_memory)) << "the orphaned pod cgroup is still there";
  }
  AGENT_ASSERT_OK(RemoveManifest("burstable.yaml"));
  AGENT_ASSERT_OK(WaitForNoPod("burstable-e2e-node", absl::Seconds(30)));
  if (PathExists(pids_root)) {
    // The pod's cgroup goes with the pod; the tier stays.
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    auto children = [&] {
      int n = 0;
      auto names = ListDir(burstable_dir);
      if (names.ok()) {
        for (const auto& name : *names) n += absl::StartsWith(name, "pod") ? 1 : 0;
      }
      return n;
    };
    while (children() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(children(), 0);
    EXPECT_TRUE(PathExists(burstable_dir));
  }
}

}  // namespace
}  // namespace berth::e2e
