// Volumes under the kubelet, observed from inside the containers: an
// emptyDir shared by two containers (with fsGroup), a Memory emptyDir as
// tmpfs, hostPath (read-write and read-only), a subPath of it, downwardAPI
// files; torn down with the pod. A hostPath that fails its type check is a
// FailedMount event and a waiting container until the path appears.
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kReader[] =
    "while [ ! -f /shared/msg ]; do sleep 0.1; done; "
    "cat /shared/msg > /host/shared.txt; "
    "stat -c %g /shared > /host/fsgroup.txt; "
    "cat /info/name > /host/name.txt; cat /info/labels > /host/labels.txt; "
    "grep \" /mem \" /proc/mounts > /host/mem.txt; "
    "cat /sub/inner.txt > /host/sub.txt; "
    "if touch /ro/x 2>/dev/null; then echo writable; else echo readonly; fi > /host/ro.txt; "
    "ls /sub > /host/sub-list.txt; "
    "touch /host/done; exec sleep 3600";

TEST_F(AgentTest, VolumesAreMountedAsTheSpecSaysAndRemovedWithThePod) {
  AGENT_ASSERT_OK(StartAgent());
  std::string host = dir_ + "/host";
  AGENT_ASSERT_OK(MkdirAll(host + "/sub"));
  AGENT_ASSERT_OK(AtomicWriteFile(host + "/sub/inner.txt", "inside the subpath\n"));
  AGENT_ASSERT_OK(WriteManifest("vols.yaml", absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata:
  name: vols
  labels: {app: vols, tier: e2e}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {fsGroup: 3000}
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: host, hostPath: {path: )", host, R"(, type: Directory}}
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
  containers:
  - name: writer
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, "echo hello from writer > /shared/msg; exec sleep 3600"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: reader
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, ')", kReader, R"(']
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: mem, mountPath: /mem}
    - {name: host, mountPath: /host}
    - {name: host, mountPath: /sub, subPath: sub}
    - {name: host, mountPath: /ro, readOnly: true}
    - {name: info, mountPath: /info}
)")));
  auto pod = WaitForPod("vols-e2e-node", IsRunningAndReady, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!PathExists(host + "/done") && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(PathExists(host + "/done")) << "the reader did not finish";
  auto read = [&](const std::string& name) {
    auto text = ReadFile(host + "/" + name);
    return text.ok() ? *text : "(missing " + name + ")";
  };
  EXPECT_EQ(read("shared.txt"), "hello from writer\n");
  EXPECT_EQ(read("fsgroup.txt"), "3000\n");
  EXPECT_EQ(read("name.txt"), "vols-e2e-node");
  EXPECT_EQ(read("labels.txt"), "app=\"vols\"\ntier=\"e2e\"");
  EXPECT_THAT(read("mem.txt"), HasSubstr("tmpfs /mem tmpfs"));
  EXPECT_THAT(read("mem.txt"), HasSubstr("size=16384k"));
  EXPECT_EQ(read("sub.txt"), "inside the subpath\n");
  EXPECT_EQ(read("sub-list.txt"), "inner.txt\n");
  EXPECT_EQ(read("ro.txt"), "readonly\n");

  // On the node: the kubelet's layout under the state dir, gone with the pod.
  std::string pod_dir = absl::StrCat(runtime_->root(), "/state/pods/", pod->metadata.uid);
  EXPECT_TRUE(PathExists(pod_dir + "/volumes/kubernetes.io~empty-dir/shared/msg"));
  AGENT_ASSERT_OK(RemoveManifest("vols.yaml"));
  AGENT_ASSERT_OK(WaitForNoPod("vols-e2e-node", absl::Seconds(30)));
  deadline = absl::Now() + absl::Seconds(10);
  while (PathExists(pod_dir) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(PathExists(pod_dir)) << "the pod's volumes were not torn down";
  EXPECT_TRUE(PathExists(host + "/sub/inner.txt")) << "a hostPath is the host's: never removed";
  auto mounts = ReadFile("/proc/self/mountinfo");
  AGENT_ASSERT_OK(mounts.status());
  EXPECT_THAT(*mounts, ::testing::Not(HasSubstr(pod->metadata.uid)));
}

TEST_F(AgentTest, AHostPathThatFailsItsTypeCheckWaitsUntilItExists) {
  AGENT_ASSERT_OK(StartAgent());
  std::string missing = dir_ + "/not-yet";
  AGENT_ASSERT_OK(WriteManifest("waits.yaml", absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, hostPath: {path: )", missing, R"(, type: Directory}}]
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "exec sleep 3600"], volumeMounts: [{name: data, mountPath: /data}]}
)")));
  auto pod = WaitForPod("waits-e2e-node", [](const k8s::Pod& p) {
    return !p.status.containerStatuses.empty() && p.status.containerStatuses[0].state.waiting &&
           !p.status.containerStatuses[0].state.waiting->message.empty();
  }, absl::Seconds(30));
  AGENT_ASSERT_OK(pod.status());
  EXPECT_EQ(pod->status.phase, "Pending");
  EXPECT_EQ(pod->status.containerStatuses[0].state.waiting->reason, "ContainerCreating");
  EXPECT_THAT(pod->status.containerStatuses[0].state.waiting->message, HasSubstr(missing));
  AGENT_ASSERT_OK(WaitForEvent({"FailedMount", "waits-e2e-node", missing}, absl::Seconds(5)));
  auto containers = ContainersOf("waits-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  EXPECT_TRUE(containers->empty());
  AGENT_ASSERT_OK(MkdirAll(missing));
  AGENT_ASSERT_OK(WaitForPod("waits-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());
}

}  // namespace
}  // namespace berth::e2e
