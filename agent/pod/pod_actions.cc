#include "agent/pod/pod_actions.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "api/k8s/json_codec.h"

namespace berth::agent {

std::string ContainerHash(const k8s::Container& c) {
  std::string text = k8s::ToJson(c).dump();
  uint32_t h = 2166136261u;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 16777619u;
  }
  char buf[16];
  snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

bool IsSidecar(const k8s::Container& c) { return c.restartPolicy && *c.restartPolicy == "Always"; }

bool ShouldRestart(const std::string& restart_policy, const ObservedContainer* latest) {
  if (latest == nullptr) return true;
  if (latest->running()) return false;
  if (latest->state == cri::CONTAINER_CREATED) return true;  // created, never started
  if (restart_policy == "Never") return false;
  if (restart_policy == "OnFailure" && latest->exit_code == 0) return false;
  return true;
}

namespace {

bool Succeeded(const ObservedContainer* c) { return c && c->exited() && c->exit_code == 0; }

// Whether the sandbox must be (re)created, and with which attempt.
bool SandboxChanged(const k8s::Pod& pod, const ObservedPod& observed, const PodActionInputs& in,
                    uint32_t* attempt, std::string* sandbox_id, std::string* why) {
  if (observed.sandboxes.empty()) {
    *attempt = 0;
    *why = "no sandbox";
    return true;
  }
  const ObservedSandbox& latest = observed.sandboxes.front();
  *attempt = latest.attempt + 1;
  int ready = 0;
  for (const auto& s : observed.sandboxes) ready += s.ready ? 1 : 0;
  if (ready > 1) {
    *why = "more than one ready sandbox";
    return true;
  }
  if (!latest.ready) {
    *why = "sandbox not ready";
    return true;
  }
  if (!in.sandbox_hash.empty() && !latest.config_hash.empty() && latest.config_hash != in.sandbox_hash) {
    *why = "sandbox config changed";
    return true;
  }
  if (latest.host_network != pod.spec.hostNetwork) {
    *why = "network namespace changed";
    return true;
  }
  *sandbox_id = latest.id;
  return false;
}

}  // namespace

PodActions ComputePodActions(const k8s::Pod& pod, const ObservedPod& observed, const PodActionInputs& in) {
  PodActions a;
  const auto& spec = pod.spec;
  const std::string& policy = spec.restartPolicy;
  std::string why;
  a.create_sandbox = SandboxChanged(pod, observed, in, &a.sandbox_attempt, &a.sandbox_id, &why);

  if (a.create_sandbox) {
    a.reason = why;
    // A pod that never restarts and already ran does not get a new sandbox.
    if (policy != "Always" && policy != "OnFailure" && a.sandbox_attempt != 0 && !observed.containers.empty()) {
      a.create_sandbox = false;
      bool live = false;
      for (const auto& s : observed.sandboxes) live |= s.ready;
      for (const auto& c : observed.containers) live |= c.running();
      a.kill_pod = live;
      a.reason = "restartPolicy Never: the pod is done";
      return a;
    }
    a.kill_pod = !observed.Empty();
    // Start from the first init container, or every container.
    if (!spec.initContainers.empty()) {
      a.containers_to_start.push_back({true, 0, spec.initContainers[0].name, "first init container"});
      return a;
    }
    for (size_t i = 0; i < spec.containers.size(); ++i) {
      const auto* latest = observed.Latest(spec.containers[i].name);
      // OnFailure: containers that succeeded stay done across a new sandbox.
      if (policy == "OnFailure" && Succeeded(latest)) continue;
      a.containers_to_start.push_back({false, i, spec.containers[i].name, why});
    }
    return a;
  }

  // Containers of this pod kept running (by id); everything else that runs is killed.
  std::set<std::string> keep;
  auto restart_running = [&](const ObservedContainer& c, const k8s::Container& want, bool init, size_t index) {
    std::string reason;
    if (c.hash != ContainerHash(want)) reason = "spec hash changed";
    bool probe_failed = false;
    if (auto it = in.liveness_failed.find(want.name); it != in.liveness_failed.end()) {
      reason = it->second;
      probe_failed = true;
    }
    if (reason.empty()) {
      keep.insert(c.id);
      return false;
    }
    a.containers_to_kill.push_back({c.id, c.name, reason});
    // A probe failure kills; whether it runs again is the restart policy's
    // call (a sidecar always restarts; OnFailure sees the kill's non-zero exit).
    if (!probe_failed || policy != "Never" || init) a.containers_to_start.push_back({init, index, want.name, reason});
    return true;
  };

  // Init containers, in order: sidecars must be running, the others must have succeeded.
  // Once a regular container has run, the pod is initialized: init containers
  // are not run again and a sidecar that exits is restarted without holding
  // the others back.
  bool initialized = false;
  for (const auto& c : spec.containers) initialized |= observed.Latest(c.name) != nullptr;
  bool init_done = true;
  for (size_t i = 0; i < spec.initContainers.size(); ++i) {
    const auto& ic = spec.initContainers[i];
    const auto* latest = observed.Latest(ic.name);
    if (IsSidecar(ic)) {
      if (latest && latest->running()) {
        restart_running(*latest, ic, true, i);
        if (!initialized && in.sidecars_not_started.count(ic.name)) {
          init_done = false;
          break;
        }
        continue;
      }
      a.containers_to_start.push_back({true, i, ic.name, latest ? "sidecar exited" : "not created"});
      if (initialized) continue;
      init_done = false;
      break;
    }
    if (initialized || Succeeded(latest)) continue;
    init_done = false;
    if (latest && latest->running()) {
      keep.insert(latest->id);  // wait for it
      break;
    }
    if (latest && latest->exited() && policy == "Never") {
      a.pod_failed = true;
      a.kill_pod = true;
      a.reason = absl::StrCat("init container ", ic.name, " failed with ", latest->exit_code);
      return a;
    }
    a.containers_to_start.push_back(
        {true, i, ic.name, latest ? absl::StrCat("exited with ", latest->exit_code) : "not created"});
    break;
  }

  if (init_done) {
    for (size_t i = 0; i < spec.containers.size(); ++i) {
      const auto& c = spec.containers[i];
      const auto* latest = observed.Latest(c.name);
      if (latest && latest->running()) {
        restart_running(*latest, c, false, i);
        continue;
      }
      if (ShouldRestart(policy, latest)) {
        a.containers_to_start.push_back(
            {false, i, c.name, latest ? absl::StrCat("exited with ", latest->exit_code) : "not created"});
      }
    }
  }

  for (const auto& c : observed.containers) {
    if (c.running() && !keep.count(c.id)) {
      bool listed = false;
      for (const auto& k : a.containers_to_kill) listed |= k.id == c.id;
      if (!listed) a.containers_to_kill.push_back({c.id, c.name, "not in the pod spec"});
    }
  }
  return a;
}

}  // namespace berth::agent
