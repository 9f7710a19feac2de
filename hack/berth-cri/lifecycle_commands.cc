// Commands that change things: runp, create, start, run, stop, rm, stopp,
// rmp, exec.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "hack/berth-cri/commands.h"
#include "hack/berth-cri/proto_json.h"

namespace berth::cri_cli {
namespace {

namespace v1 = runtime::v1;

// The ids named on the command line, or with --all every container / pod.
absl::StatusOr<std::vector<std::string>> ContainerIds(const Invocation& inv, CriClient& client) {
  if (!inv.Has("all")) {
    if (inv.args.empty()) return absl::InvalidArgumentError("expected container ids or --all");
    return inv.args;
  }
  absl::StatusOr<std::vector<v1::Container>> containers = client.ListContainers();
  if (!containers.ok()) return containers.status();
  std::vector<std::string> ids;
  for (const auto& c : *containers) ids.push_back(c.id());
  return ids;
}

absl::StatusOr<std::vector<std::string>> PodIds(const Invocation& inv, CriClient& client) {
  if (!inv.Has("all")) {
    if (inv.args.empty()) return absl::InvalidArgumentError("expected pod ids or --all");
    return inv.args;
  }
  absl::StatusOr<std::vector<v1::PodSandbox>> pods = client.ListPodSandbox();
  if (!pods.ok()) return pods.status();
  std::vector<std::string> ids;
  for (const auto& pod : *pods) ids.push_back(pod.id());
  return ids;
}

absl::StatusOr<std::string> RunPod(const Invocation& inv, CriClient& client, const std::string& path) {
  v1::PodSandboxConfig config;
  if (absl::Status s = LoadJsonMessage(path, &config); !s.ok()) return s;
  return client.RunPodSandbox(config, inv.Get("runtime"));
}

absl::StatusOr<std::string> Create(CriClient& client, const std::string& pod_id,
                                   const std::string& container_path, const std::string& pod_path) {
  v1::ContainerConfig container;
  if (absl::Status s = LoadJsonMessage(container_path, &container); !s.ok()) return s;
  v1::PodSandboxConfig pod;
  if (absl::Status s = LoadJsonMessage(pod_path, &pod); !s.ok()) return s;
  return client.CreateContainer(pod_id, container, pod);
}

}  // namespace

absl::StatusOr<int> RunPodCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<std::string> id = RunPod(inv, client, inv.args[0]);
  if (!id.ok()) return id.status();
  std::printf("%s\n", id->c_str());
  return 0;
}

absl::StatusOr<int> CreateCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<std::string> id = Create(client, inv.args[0], inv.args[1], inv.args[2]);
  if (!id.ok()) return id.status();
  std::printf("%s\n", id->c_str());
  return 0;
}

absl::StatusOr<int> StartCommand(const Invocation& inv, CriClient& client) {
  for (const std::string& id : inv.args) {
    if (absl::Status s = client.StartContainer(id); !s.ok()) return s;
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

absl::StatusOr<int> RunCommand(const Invocation& inv, CriClient& client) {
  // Check both files before anything runs.
  v1::ContainerConfig container;
  if (absl::Status s = LoadJsonMessage(inv.args[0], &container); !s.ok()) return s;
  absl::StatusOr<std::string> pod_id = RunPod(inv, client, inv.args[1]);
  if (!pod_id.ok()) return pod_id.status();
  const std::string left = absl::StrCat("pod ", *pod_id, " is left running (berth-cri stopp/rmp removes it)");
  absl::StatusOr<std::string> id = Create(client, *pod_id, inv.args[0], inv.args[1]);
  if (!id.ok()) return Annotate(id.status(), left);
  if (absl::Status s = client.StartContainer(*id); !s.ok()) return Annotate(s, left);
  std::printf("%s\n", id->c_str());
  return 0;
}

absl::StatusOr<int> StopCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<int64_t> timeout = inv.GetCount("timeout", 0);
  if (!timeout.ok()) return timeout.status();
  for (const std::string& id : inv.args) {
    if (absl::Status s = client.StopContainer(id, *timeout); !s.ok()) return s;
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

absl::StatusOr<int> RemoveCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<std::vector<std::string>> ids = ContainerIds(inv, client);
  if (!ids.ok()) return ids.status();
  for (const std::string& id : *ids) {
    if (inv.Has("force")) {
      if (absl::Status s = client.StopContainer(id, 0); !s.ok()) return s;
    }
    if (absl::Status s = client.RemoveContainer(id); !s.ok()) return s;
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

absl::StatusOr<int> StopPodCommand(const Invocation& inv, CriClient& client) {
  for (const std::string& id : inv.args) {
    if (absl::Status s = client.StopPodSandbox(id); !s.ok()) return s;
    std::printf("Stopped sandbox %s\n", id.c_str());
  }
  return 0;
}

absl::StatusOr<int> RemovePodCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<std::vector<std::string>> ids = PodIds(inv, client);
  if (!ids.ok()) return ids.status();
  for (const std::string& id : *ids) {
    if (inv.Has("force")) {
      if (absl::Status s = client.StopPodSandbox(id); !s.ok()) return s;
    }
    if (absl::Status s = client.RemovePodSandbox(id); !s.ok()) return s;
    std::printf("Removed sandbox %s\n", id.c_str());
  }
  return 0;
}

absl::StatusOr<int> ExecCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<int64_t> timeout = inv.GetCount("timeout", 0);
  if (!timeout.ok()) return timeout.status();
  std::vector<std::string> cmd(inv.args.begin() + 1, inv.args.end());
  absl::StatusOr<v1::ExecSyncResponse> result = client.ExecSync(inv.args[0], cmd, *timeout);
  if (!result.ok()) return result.status();
  std::fwrite(result->stdout().data(), 1, result->stdout().size(), stdout);
  std::fflush(stdout);
  std::fwrite(result->stderr().data(), 1, result->stderr().size(), stderr);
  return result->exit_code();
}

}  // namespace berth::cri_cli
