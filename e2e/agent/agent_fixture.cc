#include "e2e/agent/agent_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/server/http_server.h"
#include "api/k8s/codec.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::e2e {

std::string* AgentTest::images_dir_ = nullptr;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return 0;
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string BusyboxPod(const std::string& name, const std::string& script, const std::string& restart_policy,
                       const std::string& extra_spec) {
  return absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata:
  name: )", name, R"(
spec:
  restartPolicy: )", restart_policy, R"(
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, ')", script, R"(']
)", extra_spec);
}

void AgentTest::SetUpTestSuite() {
  if (images_dir_) return;
  char tmpl[] = "/tmp/berth-agent-e2e-images-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  images_dir_ = new std::string(tmpl);
  auto built = RunCommand({SourceDir() + "/hack/build-busybox-image.sh", *images_dir_}, absl::Seconds(120));
  if (!built.ok()) {
    fprintf(stderr, "building the images failed: %s\n", std::string(built.status().message()).c_str());
    abort();
  }
}

void AgentTest::TearDownTestSuite() {
  if (!images_dir_) return;
  RemoveAll(*images_dir_).IgnoreError();
  delete images_dir_;
  images_dir_ = nullptr;
}

void AgentTest::SetUp() {
  runtime_ = RuntimeUnderTest::FromEnv();
  if (runtime_->name() != "berth") GTEST_SKIP() << "the kubelet is berth-agent's";
  char tmpl[] = "/tmp/berth-agent-e2e-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  manifests_ = dir_ + "/manifests";
  logs_ = dir_ + "/logs";
  AGENT_ASSERT_OK(MkdirAll(manifests_));
  http_port_ = FreePort();
  ASSERT_GT(http_port_, 0);
}

absl::Status AgentTest::StartAgent() {
  std::vector<std::string> flags = {"--pod-manifest-path", manifests_, "--node-name", "e2e-node",
                                    "--healthz-port", std::to_string(http_port_), "--pod-logs-dir", logs_,
                                    "--crash-loop-backoff-base", "1s", "--crash-loop-backoff-max", "8s",
                                    "--file-check-frequency", "5s", "--sync-frequency", "30s"};
  flags.insert(flags.end(), extra_flags_.begin(), extra_flags_.end());
  runtime_->set_extra_flags(flags);
  RETURN_IF_ERROR(runtime_->Start({*images_dir_ + "/busybox.tar", *images_dir_ + "/pause.tar"}));
  client_ = std::make_unique<CriClient>(runtime_->endpoint());
  return WaitForHealthz();
}

absl::Status AgentTest::WaitForHealthz() {
  // /healthz answers once the kubelet runs.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::Status last;
  while (absl::Now() < deadline) {
    auto body = Get("/healthz");
    if (body.ok() && *body == "ok") return absl::OkStatus();
    last = body.status();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return Annotate(last, "waiting for /healthz");
}

void AgentTest::TearDown() {
  if (!runtime_ || runtime_->name() != "berth") return;
  if (HasFailure()) fprintf(stderr, "the end of berth-agent's log:\n%s\n", runtime_->LogTail(16000).c_str());
  // Remove the manifests first so that the kubelet stops the pods itself
  // instead of recreating what the CRI cleanup removes.
  if (!manifests_.empty() && client_) {
    auto names = ListDir(manifests_);
    if (names.ok()) {
      for (const auto& n : *names) unlink((manifests_ + "/" + n).c_str());
      absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (absl::Now() < deadline) {
        auto pods = Pods();
        if (!pods.ok() || pods->empty()) break;
        absl::SleepFor(absl::Milliseconds(100));
      }
      // And until the kubelet has stopped every container (each within its grace period).
      while (absl::Now() < deadline) {
        auto containers = client_->ListContainers();
        if (!containers.ok()) break;
        bool running = false;
        for (const auto& c : *containers) running |= c.state() == runtime::v1::CONTAINER_RUNNING;
        if (!running) break;
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  }
  absl::Status stopped = runtime_->Stop();
  EXPECT_TRUE(stopped.ok()) << stopped;
  if (HasFailure()) {
    // The agent's last lines say why.
    auto log = ReadFile(runtime_->root() + "/agent.log");
    if (log.ok()) {
      size_t from = log->size() > 12000 ? log->size() - 12000 : 0;
      fprintf(stderr, "--- agent.log (tail) ---\n%s--- end of agent.log ---\n", log->substr(from).c_str());
    }
  }
  if (!dir_.empty()) {
    absl::Status removed = RemoveAll(dir_);
    EXPECT_TRUE(removed.ok()) << removed;
  }
}

absl::Status AgentTest::WriteManifest(const std::string& file, const std::string& text) {
  // A hidden temporary file renamed into place, as an editor or config tool
  // should do it: the agent ignores hidden files, so it never sees a half-written one.
  std::string tmp = manifests_ + "/." + file + ".tmp";
  RETURN_IF_ERROR(AtomicWriteFile(dir_ + "/." + file + ".staging", text));
  if (rename((dir_ + "/." + file + ".staging").c_str(), tmp.c_str()) != 0) return ErrnoError("rename " + tmp);
  if (rename(tmp.c_str(), (manifests_ + "/" + file).c_str()) != 0) return ErrnoError("rename to " + file);
  return absl::OkStatus();
}

absl::Status AgentTest::RemoveManifest(const std::string& file) {
  if (unlink((manifests_ + "/" + file).c_str()) != 0) return absl::NotFoundError(file);
  return absl::OkStatus();
}

absl::StatusOr<std::string> AgentTest::Get(const std::string& target) {
  if (!runtime_ || runtime_->host_netns().empty()) return agent::HttpGet("127.0.0.1", http_port_, target);
  absl::StatusOr<std::string> out = absl::InternalError("not run");
  OnNodeNetwork([&] { out = agent::HttpGet("127.0.0.1", http_port_, target); });
  return out;
}

namespace {

// Runs `fn` on a thread whose network namespace is `path`'s.
absl::Status OnNetwork(const std::string& path, const std::function<void()>& fn) {
  absl::Status entered;
  std::thread t([&] {
    // setns(CLONE_NEWNET) changes only this thread's network namespace.
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      entered = ErrnoError("setns " + path);
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    fn();
  });
  t.join();
  return entered;
}

}  // namespace

void AgentTest::OnNodeNetwork(const std::function<void()>& fn) {
  if (!runtime_ || runtime_->host_netns().empty()) {
    fn();
    return;
  }
  absl::Status st = OnNetwork("/run/netns/" + runtime_->host_netns(), fn);
  if (!st.ok()) ADD_FAILURE() << st;
}

absl::Status AgentTest::InPodNetwork(const std::string& pod_name, const std::string& container,
                                     const std::function<void()>& fn) {
  ASSIGN_OR_RETURN(std::string id, RunningContainerId(pod_name, container));
  ASSIGN_OR_RETURN(auto status, client_->ContainerStatus(id, /*verbose=*/true));
  // The runtime's verbose info: {"pid":N,...}.
  auto it = status.info().find("info");
  if (it == status.info().end()) return absl::NotFoundError("no verbose info for container " + id);
  auto pid_at = it->second.find("\"pid\":");
  int pid = 0;
  if (pid_at == std::string::npos || (pid = atoi(it->second.c_str() + pid_at + 6)) <= 0) {
    return absl::NotFoundError(absl::StrCat("no pid in the info of container ", id, ": ", it->second));
  }
  return OnNetwork(absl::StrCat("/proc/", pid, "/ns/net"), fn);
}

absl::Status AgentTest::StartAgentWithPodNetwork() {
  constexpr char kPlugins[] = "/usr/lib/cni";
  if (!PathExists(std::string(kPlugins) + "/bridge")) return absl::FailedPreconditionError("no CNI reference plugins");
  RETURN_IF_ERROR(StartAgent());
  std::string conflist = absl::StrCat(R"({"cniVersion": "1.0.0", "name": "agent-e2e", "plugins": [
    {"type": "bridge", "bridge": "berth-ae2e0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.77.0/24"}]], "dataDir": ")",
                                      runtime_->root(), R"(/ipam"}}]})");
  RETURN_IF_ERROR(runtime_->UsePodNetwork(conflist, kPlugins));
  const std::string& ns = runtime_->host_netns();
  // The node's own address on a veth (this kernel has no dummy links; both
  // ends live and die with the namespace).
  RETURN_IF_ERROR(RunCommand({"ip", "-n", ns, "link", "add", "node0", "type", "veth", "peer", "name", "node0p"},
                             absl::Seconds(20))
                      .status());
  RETURN_IF_ERROR(RunCommand({"ip", "-n", ns, "link", "set", "node0p", "up"}, absl::Seconds(20)).status());
  RETURN_IF_ERROR(
      RunCommand({"ip", "-n", ns, "addr", "add", absl::StrCat(kNodeIp, "/32"), "dev", "node0"}, absl::Seconds(20))
          .status());
  RETURN_IF_ERROR(RunCommand({"ip", "-n", ns, "link", "set", "node0", "up"}, absl::Seconds(20)).status());
  RETURN_IF_ERROR(runtime_->KillMainProcess());
  RETURN_IF_ERROR(runtime_->Restart());
  return WaitForHealthz();  // through the node's network namespace now
}

absl::StatusOr<std::string> AgentTest::RunningContainerId(const std::string& pod_name, const std::string& container) {
  runtime::v1::ContainerFilter filter;
  (*filter.mutable_label_selector())["io.kubernetes.pod.name"] = pod_name;
  (*filter.mutable_label_selector())["io.kubernetes.container.name"] = container;
  filter.mutable_state()->set_state(runtime::v1::CONTAINER_RUNNING);
  ASSIGN_OR_RETURN(auto list, client_->ListContainers(filter));
  if (list.empty()) return absl::NotFoundError(absl::StrCat("no running container ", container, " in ", pod_name));
  return list[0].id();
}

absl::StatusOr<std::string> AgentTest::Exec(const std::string& pod_name, const std::string& container,
                                            const std::vector<std::string>& cmd) {
  ASSIGN_OR_RETURN(std::string id, RunningContainerId(pod_name, container));
  ASSIGN_OR_RETURN(auto resp, client_->ExecSync(id, cmd, 10));
  if (resp.exit_code() != 0) {
    return absl::InternalError(absl::StrCat("exit ", resp.exit_code(), ": ", resp.stdout(), resp.stderr()));
  }
  return resp.stdout();
}

std::string AgentTest::Events() {
  auto body = Get("/events");
  return body.ok() ? *body : "";
}

absl::Status AgentTest::WaitForEvent(const std::vector<std::string>& parts, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::string text;
  while (true) {
    text = Events();
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      bool all = true;
      for (const auto& p : parts) all &= absl::StrContains(line, p);
      if (all) return absl::OkStatus();
    }
    if (absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no event with [", absl::StrJoin(parts, "|"), "]; events:\n", text));
}

std::string AgentTest::ReadyOf(const k8s::Pod& pod) {
  for (const auto& c : pod.status.conditions) {
    if (c.type == "Ready") return c.status;
  }
  return "";
}

absl::StatusOr<std::vector<k8s::Pod>> AgentTest::Pods() {
  ASSIGN_OR_RETURN(std::string body, Get("/pods"));
  nlohmann::json list = nlohmann::json::parse(body, nullptr, false);
  if (list.is_discarded() || !list.contains("items")) return absl::InternalError("bad /pods: " + body);
  if (list.value("kind", "") != "PodList") return absl::InternalError("not a PodList: " + body);
  std::vector<k8s::Pod> pods;
  for (const auto& item : list["items"]) {
    ASSIGN_OR_RETURN(auto pod, k8s::PodFromJson(item));  // strict: /pods must be valid v1 JSON
    pods.push_back(std::move(pod));
  }
  return pods;
}

absl::StatusOr<k8s::Pod> AgentTest::WaitForPod(const std::string& name,
                                                 const std::function<bool(const k8s::Pod&)>& ok,
                                                 absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::string last = "(not listed)";
  while (true) {
    auto pods = Pods();
    if (pods.ok()) {
      for (const auto& pod : *pods) {
        if (pod.metadata.name != name) continue;
        if (ok(pod)) return pod;
        last = k8s::EncodePodJson(pod);
      }
    } else {
      last = pods.status().ToString();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("pod ", name, " not as wanted; last seen: ", last));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status AgentTest::WaitForNoPod(const std::string& name, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto pods = Pods();
    bool found = false;
    if (pods.ok()) {
      for (const auto& pod : *pods) found |= pod.metadata.name == name;
      if (!found) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("pod " + name + " still listed");
}

absl::StatusOr<std::vector<runtime::v1::Container>> AgentTest::ContainersOf(const std::string& pod_name) {
  runtime::v1::ContainerFilter filter;
  (*filter.mutable_label_selector())["io.kubernetes.pod.name"] = pod_name;
  return client_->ListContainers(filter);
}

bool AgentTest::IsRunningAndReady(const k8s::Pod& pod) {
  if (pod.status.phase != "Running") return false;
  for (const auto& c : pod.status.conditions) {
    if (c.type == "Ready") return c.status == "True";
  }
  return false;
}

std::string AgentTest::PodLogDir(const k8s::Pod& pod) const {
  return absl::StrCat(logs_, "/", pod.metadata.namespace_, "_", pod.metadata.name, "_", pod.metadata.uid);
}

}  // namespace berth::e2e
