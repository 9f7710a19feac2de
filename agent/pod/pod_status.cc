#include "agent/pod/pod_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/pod/cri_config.h"
#include "agent/pod/pod_actions.h"

namespace berth::agent {

std::string K8sTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

namespace {

std::string NanosTime(int64_t ns) { return K8sTime(absl::FromUnixNanos(ns)); }

k8s::ContainerStateTerminated Terminated(const ObservedContainer& c, const std::string& runtime) {
  k8s::ContainerStateTerminated t;
  t.exitCode = c.exit_code;
  t.reason = !c.reason.empty() ? c.reason : (c.exit_code == 0 ? "Completed" : "Error");
  t.message = c.message;
  if (c.started_at) t.startedAt = NanosTime(c.started_at);
  if (c.finished_at) t.finishedAt = NanosTime(c.finished_at);
  t.containerID = absl::StrCat(runtime, "://", c.id);
  return t;
}

k8s::ContainerStatus MakeContainerStatus(const k8s::Pod& pod, const k8s::Container& spec, bool init,
                                         const ObservedPod& observed, const PodStatusInputs& in) {
  k8s::ContainerStatus s;
  s.name = spec.name;
  s.image = spec.image;
  const ObservedContainer* latest = observed.Latest(spec.name);
  const ObservedContainer* previous = observed.Previous(spec.name);
  auto waiting_it = in.waiting.find(spec.name);
  bool has_waiting = waiting_it != in.waiting.end();
  if (latest == nullptr) {
    s.state.waiting = k8s::ContainerStateWaiting{has_waiting ? waiting_it->second.reason : (init ? "PodInitializing" : "ContainerCreating"),
                                                 has_waiting ? waiting_it->second.message : ""};
    if (!init && !has_waiting && !pod.spec.initContainers.empty()) s.state.waiting->reason = "PodInitializing";
    s.started = false;
    return s;
  }
  s.containerID = absl::StrCat(in.runtime_name, "://", latest->id);
  s.imageID = latest->image_ref;
  if (!latest->image.empty()) s.image = latest->image;
  s.restartCount = latest->restart_count;
  if (latest->running()) {
    s.state.running = k8s::ContainerStateRunning{NanosTime(latest->started_at)};
    auto st = in.started.find(latest->id);
    s.started = st == in.started.end() ? !spec.startupProbe.has_value() : st->second;
    auto r = in.readiness.find(latest->id);
    bool ready = r == in.readiness.end() ? !spec.readinessProbe.has_value() : r->second;
    s.ready = ready && s.started.value_or(true);
    if (previous && previous->exited()) s.lastState.terminated = Terminated(*previous, in.runtime_name);
  } else if (latest->exited()) {
    s.started = false;
    if (has_waiting) {
      s.state.waiting = k8s::ContainerStateWaiting{waiting_it->second.reason, waiting_it->second.message};
      s.lastState.terminated = Terminated(*latest, in.runtime_name);
    } else {
      s.state.terminated = Terminated(*latest, in.runtime_name);
      if (previous && previous->exited()) s.lastState.terminated = Terminated(*previous, in.runtime_name);
    }
  } else {
    s.started = false;
    s.state.waiting = k8s::ContainerStateWaiting{has_waiting ? waiting_it->second.reason : "ContainerCreating",
                                                 has_waiting ? waiting_it->second.message : ""};
    if (previous && previous->exited()) s.lastState.terminated = Terminated(*previous, in.runtime_name);
  }
  return s;
}

void SetCondition(k8s::PodStatus* st, const k8s::PodStatus* previous, absl::Time now, const std::string& type,
                  bool value, const std::string& reason, const std::string& message) {
  k8s::PodCondition c;
  c.type = type;
  c.status = value ? "True" : "False";
  c.reason = reason;
  c.message = message;
  c.lastTransitionTime = K8sTime(now);
  if (previous) {
    for (const auto& p : previous->conditions) {
      if (p.type == type && p.status == c.status) c.lastTransitionTime = p.lastTransitionTime;
    }
  }
  c.lastProbeTime = std::nullopt;
  st->conditions.push_back(std::move(c));
}

}  // namespace

k8s::PodStatus ComputePodStatus(const k8s::Pod& pod, const ObservedPod& observed, const PodStatusInputs& in,
                                const k8s::PodStatus* previous) {
  k8s::PodStatus st;
  st.qosClass = QosClass(pod);
  st.startTime = K8sTime(in.start_time);
  if (!in.host_ip.empty()) {
    st.hostIP = in.host_ip;
    st.hostIPs.push_back({in.host_ip});
  }
  const ObservedSandbox* sandbox = nullptr;
  for (const auto& s : observed.sandboxes) {
    if (s.ready) {
      sandbox = &s;
      break;
    }
  }
  if (sandbox) {
    std::vector<std::string> ips = sandbox->ips;
    if (pod.spec.hostNetwork && ips.empty() && !in.host_ip.empty()) ips.push_back(in.host_ip);
    if (!ips.empty()) st.podIP = ips[0];
    for (const auto& ip : ips) st.podIPs.push_back({ip});
  }

  // Init containers.
  std::vector<std::string> not_initialized;
  bool init_failed = in.pod_failed;
  for (const auto& ic : pod.spec.initContainers) {
    auto cs = MakeContainerStatus(pod, ic, true, observed, in);
    bool done = IsSidecar(ic) ? cs.state.running.has_value() && cs.started.value_or(false)
                              : cs.state.terminated && cs.state.terminated->exitCode == 0;
    if (!done) not_initialized.push_back(ic.name);
    st.initContainerStatuses.push_back(std::move(cs));
  }
  bool initialized = not_initialized.empty();

  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  std::vector<std::string> unready;
  for (const auto& c : pod.spec.containers) {
    auto cs = MakeContainerStatus(pod, c, false, observed, in);
    if (cs.state.running) {
      ++running;
    } else if (cs.state.terminated) {
      ++stopped;
      if (cs.state.terminated->exitCode == 0) ++succeeded;
    } else if (cs.state.waiting) {
      if (cs.lastState.terminated) {
        ++stopped;
      } else {
        ++waiting;
      }
    }
    if (!cs.ready) unready.push_back(c.name);
    st.containerStatuses.push_back(std::move(cs));
  }

  const std::string& policy = pod.spec.restartPolicy;
  if (init_failed) {
    st.phase = "Failed";
  } else if (!initialized) {
    st.phase = "Pending";
  } else if (waiting > 0) {
    st.phase = "Pending";
  } else if (running > 0) {
    st.phase = "Running";
  } else if (stopped > 0) {
    if (policy == "Always") {
      st.phase = "Running";
    } else if (stopped == succeeded) {
      st.phase = "Succeeded";
    } else if (policy == "Never") {
      st.phase = "Failed";
    } else {
      st.phase = "Running";
    }
  } else {
    st.phase = "Pending";
  }

  bool terminal = st.phase == "Succeeded" || st.phase == "Failed";
  SetCondition(&st, previous, in.now, "PodReadyToStartContainers", sandbox != nullptr, "", "");
  if (initialized || terminal) {
    SetCondition(&st, previous, in.now, "Initialized", true, terminal && !initialized ? "PodCompleted" : "", "");
  } else {
    SetCondition(&st, previous, in.now, "Initialized", false, "ContainersNotInitialized",
                 absl::StrCat("containers with incomplete status: [", absl::StrJoin(not_initialized, " "), "]"));
  }
  bool ready = unready.empty() && initialized && !terminal;
  std::string reason = terminal ? "PodCompleted" : (ready ? "" : "ContainersNotReady");
  std::string message =
      ready || terminal ? "" : absl::StrCat("containers with unready status: [", absl::StrJoin(unready, " "), "]");
  SetCondition(&st, previous, in.now, "ContainersReady", ready, reason, message);
  SetCondition(&st, previous, in.now, "Ready", ready, reason, message);
  SetCondition(&st, previous, in.now, "PodScheduled", true, "", "");
  return st;
}

}  // namespace berth::agent
