#include "absl/time/clock.h"
#include "agent/pod/pod_sync.h"

#include <sys/stat.h>

#include <future>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/pod/labels.h"
#include "agent/pod/pod_actions.h"
#include "agent/pod/run_as_non_root.h"
#include "agent/prober/cri_exec.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent {

std::string PodObject(const k8s::Pod& pod) {
  return absl::StrCat("pod/", pod.metadata.namespace_, "/", pod.metadata.name);
}

PodSyncer::PodSyncer(RuntimeService* runtime, ImageService* images, EventRecorder* events, PodSyncOptions options)
    : runtime_(runtime),
      images_(images),
      events_(events),
      options_(std::move(options)),
      volumes_(volume::VolumeManager::Options{options_.pods_dir, std::nullopt}),
      hooks_(prober::ExecViaExecSync([runtime](const cri::ExecSyncRequest& req, cri::ExecSyncResponse* resp) {
        return runtime->ExecSync(req, resp);
      })),
      crash_backoff_(options_.backoff_base, options_.backoff_max),
      pull_backoff_(options_.backoff_base, options_.backoff_max) {}

absl::Status PodSyncer::EnsureImage(const k8s::Pod& pod, const k8s::Container& c, WaitingReason* waiting,
                                    cri::Image* image) {
  std::string object = PodObject(pod);
  cri::ImageStatusRequest sreq;
  sreq.mutable_image()->set_image(c.image);
  cri::ImageStatusResponse sresp;
  absl::Status st = images_->ImageStatus(sreq, &sresp);
  bool present = st.ok() && sresp.has_image() && !sresp.image().id().empty();
  std::string policy = c.imagePullPolicy.empty() ? "IfNotPresent" : c.imagePullPolicy;
  if (present) *image = sresp.image();
  if (present && policy != "Always") {
    events_->Record("Normal", object, "Pulled",
                    absl::StrCat("Container image \"", c.image, "\" already present on machine"));
    return absl::OkStatus();
  }
  if (policy == "Never") {
    if (present) return absl::OkStatus();
    *waiting = {"ErrImageNeverPull",
                absl::StrCat("Container image \"", c.image, "\" is not present with pull policy of Never")};
    events_->Record("Warning", object, "ErrImageNeverPull", waiting->message);
    return absl::FailedPreconditionError(waiting->message);
  }
  if (present && policy == "IfNotPresent") return absl::OkStatus();
  std::string key = "pull/" + c.image;
  absl::Time now = absl::Now();
  if (pull_backoff_.IsInBackOffSince(key, now, now)) {
    *waiting = {"ImagePullBackOff", absl::StrCat("Back-off pulling image \"", c.image, "\"")};
    events_->Record("Normal", object, "BackOff", waiting->message);
    return absl::UnavailableError(waiting->message);
  }
  events_->Record("Normal", object, "Pulling", absl::StrCat("Pulling image \"", c.image, "\""));
  absl::Time begin = absl::Now();
  cri::PullImageRequest preq;
  preq.mutable_image()->set_image(c.image);
  cri::PullImageResponse presp;
  {
    std::unique_lock<std::mutex> lock(pull_mu_, std::defer_lock);
    if (options_.serialize_image_pulls) lock.lock();
    st = images_->PullImage(preq, &presp);
  }
  if (!st.ok()) {
    pull_backoff_.Next(key, absl::Now(), absl::Now());
    *waiting = {"ErrImagePull", std::string(st.message())};
    events_->Record("Warning", object, "Failed", absl::StrCat("Failed to pull image \"", c.image, "\": ", st.message()));
    return st;
  }
  pull_backoff_.Reset(key);
  sresp.Clear();
  if (images_->ImageStatus(sreq, &sresp).ok() && sresp.has_image()) *image = sresp.image();
  events_->Record("Normal", object, "Pulled",
                  absl::StrCat("Successfully pulled image \"", c.image, "\" in ",
                               absl::FormatDuration(absl::Now() - begin)));
  return absl::OkStatus();
}

namespace {

const k8s::Container* FindContainerSpec(const k8s::Pod& pod, const std::string& name) {
  for (const auto* list : {&pod.spec.containers, &pod.spec.initContainers}) {
    for (const auto& c : *list) {
      if (c.name == name) return &c;
    }
  }
  return nullptr;
}

}  // namespace

void PodSyncer::StopContainers(const k8s::Pod* pod, const std::string& pod_ip,
                               const std::vector<std::pair<std::string, std::string>>& id_names, int64_t grace,
                               const std::string& object, const std::string& why) {
  std::vector<std::thread> threads;
  for (const auto& [id, name] : id_names) {
    events_->Record("Normal", object, "Killing", absl::StrCat("Stopping container ", name, ": ", why));
    threads.emplace_back([this, pod, pod_ip, id = id, name = name, grace, object] {
      int64_t timeout = grace;
      const k8s::Container* spec = pod ? FindContainerSpec(*pod, name) : nullptr;
      if (spec && spec->lifecycle && spec->lifecycle->preStop && grace > 0) {
        prober::HookTarget target{pod, spec, id, pod_ip};
        prober::PreStopResult r = hooks_.RunPreStop(target, grace);
        if (!r.status.ok()) {
          events_->Record("Warning", object, "FailedPreStopHook",
                          absl::StrCat("PreStopHook failed for container ", name, ": ", r.status.message()));
        } else if (!r.completed) {
          events_->Record("Warning", object, "FailedPreStopHook",
                          absl::StrCat("PreStopHook for container ", name, " did not finish within the grace period"));
        }
        timeout = r.remaining_grace_seconds;
      }
      cri::StopContainerRequest req;
      req.set_container_id(id);
      req.set_timeout(timeout);
      cri::StopContainerResponse resp;
      absl::Status st = runtime_->StopContainer(req, &resp);
      if (!st.ok()) events_->Record("Warning", object, "FailedKillPod", std::string(st.message()));
    });
  }
  for (auto& t : threads) t.join();
}

absl::Status PodSyncer::KillPod(const std::string& uid, const k8s::Pod* pod, std::optional<int64_t> grace_override) {
  ASSIGN_OR_RETURN(auto pods, ObservePods(*runtime_, uid));
  if (pods.empty()) return absl::OkStatus();
  const ObservedPod& observed = pods[0];
  std::string object = pod ? PodObject(*pod) : absl::StrCat("pod/", observed.namespace_, "/", observed.name);
  int64_t grace = 30;
  if (pod && pod->spec.terminationGracePeriodSeconds) grace = *pod->spec.terminationGracePeriodSeconds;
  if (grace_override) grace = *grace_override;
  std::vector<std::pair<std::string, std::string>> running;
  for (const auto& c : observed.containers) {
    if (c.running() || c.state == cri::CONTAINER_CREATED) running.emplace_back(c.id, c.name);
  }
  if (!pod && !grace_override) {
    // An orphan: the grace period its containers were created with.
    for (const auto& c : observed.containers) {
      cri::ContainerStatusRequest req;
      req.set_container_id(c.id);
      cri::ContainerStatusResponse resp;
      if (runtime_->ContainerStatus(req, &resp).ok()) {
        auto it = resp.status().annotations().find(kTerminationGracePeriodAnnotation);
        int64_t g;
        if (it != resp.status().annotations().end() && absl::SimpleAtoi(it->second, &g)) grace = g;
        break;
      }
    }
  }
  std::string pod_ip;
  for (const auto& s : observed.sandboxes) {
    if (s.ready && !s.ips.empty()) {
      pod_ip = s.ips[0];
      break;
    }
  }
  if (pod && pod->spec.hostNetwork && pod_ip.empty()) pod_ip = options_.host_ip;
  StopContainers(pod, pod_ip, running, grace, object, "the pod is being removed");
  absl::Status first;
  for (const auto& s : observed.sandboxes) {
    if (!s.ready) continue;
    cri::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(s.id);
    cri::StopPodSandboxResponse resp;
    absl::Status st = runtime_->StopPodSandbox(req, &resp);
    if (!st.ok() && first.ok()) first = st;
  }
  if (first.ok() && options_.pod_cgroups) {
    // Every container and the sandbox stopped: the pod cgroup is empty.
    absl::Status st = options_.pod_cgroups->Destroy(uid);
    if (!st.ok()) {
      BERTH_LOG(Warning) << "remove the pod cgroup" << Kv("uid", uid) << Kv("error", st.ToString());
    }
  }
  std::lock_guard<std::mutex> lock(waiting_mu_);
  waiting_.erase(uid);
  return first;
}

absl::Status PodSyncer::RemovePod(const ObservedPod& observed) {
  absl::Status first;
  for (const auto& c : observed.containers) {
    cri::RemoveContainerRequest req;
    req.set_container_id(c.id);
    cri::RemoveContainerResponse resp;
    absl::Status st = runtime_->RemoveContainer(req, &resp);
    if (!st.ok() && st.code() != absl::StatusCode::kNotFound && first.ok()) first = st;
  }
  for (const auto& s : observed.sandboxes) {
    cri::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(s.id);
    cri::RemovePodSandboxResponse resp;
    absl::Status st = runtime_->RemovePodSandbox(req, &resp);
    if (!st.ok() && st.code() != absl::StatusCode::kNotFound && first.ok()) first = st;
  }
  if (!options_.pods_dir.empty() && !observed.uid.empty()) {
    absl::Status st = TearDownVolumes(observed.uid);
    if (!st.ok() && first.ok()) first = st;
  }
  if (options_.pod_cgroups && !observed.uid.empty()) {
    absl::Status st = options_.pod_cgroups->Destroy(observed.uid);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

absl::Status PodSyncer::TearDownVolumes(const std::string& uid) {
  if (options_.pods_dir.empty()) return absl::OkStatus();
  absl::Status st = volumes_.TearDown(uid);
  if (!st.ok()) {
    BERTH_LOG(Warning) << "tear down volumes" << Kv("uid", uid) << Kv("error", st.ToString());
  }
  return st;
}

bool PodSyncer::RunPostStart(const k8s::Pod& pod, const k8s::Container& spec, const std::string& id,
                             const std::string& pod_ip, int64_t grace, WaitingReason* waiting) {
  if (!spec.lifecycle || !spec.lifecycle->postStart) return true;
  std::string object = PodObject(pod);
  prober::HookTarget target{&pod, &spec, id, pod_ip};
  auto kill = [&](const std::string& container_id, const std::string& reason, const std::string& message) {
    events_->Record("Warning", object, reason, message);
    events_->Record("Normal", object, "Killing",
                    absl::StrCat("FailedPostStartHook: stopping container ", spec.name));
    cri::StopContainerRequest req;
    req.set_container_id(container_id);
    req.set_timeout(grace);
    cri::StopContainerResponse resp;
    return runtime_->StopContainer(req, &resp);
  };
  absl::Status st = hooks_.RunPostStart(target, kill);
  if (st.ok()) return true;
  *waiting = {"PostStartHookError", std::string(st.message())};
  return false;
}

void PodSyncer::GarbageCollect(const k8s::Pod& pod, const ObservedPod& observed, const std::string& keep_sandbox) {
  // Keep the newest two instances of each container (the current one and the
  // one lastState shows); remove older exited ones.
  std::map<std::string, int> seen;
  for (const auto& c : observed.containers) {
    if (++seen[c.name] <= 2 || !c.exited()) continue;
    cri::RemoveContainerRequest req;
    req.set_container_id(c.id);
    cri::RemoveContainerResponse resp;
    runtime_->RemoveContainer(req, &resp).IgnoreError();
  }
  // Old sandboxes that are stopped and hold no container any more.
  for (const auto& s : observed.sandboxes) {
    if (s.ready || s.id == keep_sandbox) continue;
    bool used = false;
    for (const auto& c : observed.containers) used |= c.sandbox_id == s.id;
    if (used) continue;
    cri::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(s.id);
    cri::RemovePodSandboxResponse resp;
    runtime_->RemovePodSandbox(req, &resp).IgnoreError();
  }
}

SyncResult PodSyncer::SyncPod(const k8s::Pod& pod, const k8s::PodStatus* previous, absl::Time start_time,
                              const ProbeState& probes) {
  SyncResult result;
  const std::string& uid = pod.metadata.uid;
  std::string object = PodObject(pod);
  std::map<std::string, WaitingReason> waiting;
  {
    std::lock_guard<std::mutex> lock(waiting_mu_);
    waiting = waiting_[uid];
  }
  ObservedPod observed;
  observed.uid = uid;
  auto pods = ObservePods(*runtime_, uid);
  if (!pods.ok()) {
    BERTH_LOG(Warning) << "sync: observe pod" << Kv("pod", object) << Kv("error", pods.status().ToString());
    result.resync_after = absl::Seconds(1);
    if (previous) result.status = *previous;
    return result;
  }
  if (!pods->empty()) observed = (*pods)[0];

  CriConfigOptions cri = options_.cri;
  if (options_.pod_cgroups) cri.cgroup_parent = options_.pod_cgroups->NameFor(pod);
  cri::PodSandboxConfig sandbox_config = MakeSandboxConfig(pod, 0, cri);
  PodActionInputs inputs;
  inputs.sandbox_hash = sandbox_config.annotations().at(kSandboxHashAnnotation);
  for (const auto& [name, failure] : probes.liveness_failed) {
    const ObservedContainer* latest = observed.Latest(name);
    if (latest && latest->id == failure.container_id && latest->running()) inputs.liveness_failed[name] = failure.reason;
  }
  // A sidecar with a startup probe holds the next init container back until the probe succeeded.
  for (const auto& ic : pod.spec.initContainers) {
    if (!IsSidecar(ic) || !ic.startupProbe) continue;
    const ObservedContainer* latest = observed.Latest(ic.name);
    auto it = latest ? probes.started.find(latest->id) : probes.started.end();
    if (it == probes.started.end() || !it->second) inputs.sidecars_not_started.insert(ic.name);
  }
  PodActions actions = ComputePodActions(pod, observed, inputs);
  int64_t grace = pod.spec.terminationGracePeriodSeconds.value_or(30);

  if (actions.create_sandbox && !observed.sandboxes.empty()) {
    events_->Record("Normal", object, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
  }
  if (actions.kill_pod) {
    if (!actions.reason.empty()) {
      BERTH_LOG(Info) << "killing pod" << Kv("pod", object) << Kv("why", actions.reason);
    }
    std::vector<std::pair<std::string, std::string>> running;
    for (const auto& c : observed.containers) {
      if (c.running()) running.emplace_back(c.id, c.name);
    }
    std::string old_ip;
    for (const auto& s : observed.sandboxes) {
      if (s.ready && !s.ips.empty()) old_ip = s.ips[0];
    }
    StopContainers(&pod, old_ip, running, grace, object, actions.reason);
    for (const auto& s : observed.sandboxes) {
      if (!s.ready) continue;
      cri::StopPodSandboxRequest req;
      req.set_pod_sandbox_id(s.id);
      cri::StopPodSandboxResponse resp;
      runtime_->StopPodSandbox(req, &resp).IgnoreError();
    }
  }

  std::string sandbox_id = actions.sandbox_id;
  std::string pod_ip;
  std::vector<std::string> pod_ips;
  bool sandbox_ok = !sandbox_id.empty();
  if (actions.create_sandbox) {
    sandbox_config = MakeSandboxConfig(pod, actions.sandbox_attempt, cri);
    cri::RunPodSandboxRequest req;
    *req.mutable_config() = sandbox_config;
    cri::RunPodSandboxResponse resp;
    absl::Status st = MkdirAll(sandbox_config.log_directory(), 0755);
    if (st.ok() && options_.pod_cgroups) st = options_.pod_cgroups->Create(pod);
    if (st.ok()) st = runtime_->RunPodSandbox(req, &resp);
    if (!st.ok()) {
      events_->Record("Warning", object, "FailedCreatePodSandBox",
                      absl::StrCat("Failed to create pod sandbox: ", st.message()));
      result.resync_after = absl::Seconds(2);
      sandbox_ok = false;
    } else {
      sandbox_id = resp.pod_sandbox_id();
      sandbox_ok = true;
    }
  } else if (sandbox_ok) {
    sandbox_config = MakeSandboxConfig(pod, observed.sandboxes.front().attempt, cri);
  }
  if (sandbox_ok) {
    cri::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(sandbox_id);
    cri::PodSandboxStatusResponse resp;
    if (runtime_->PodSandboxStatus(req, &resp).ok()) {
      pod_ip = resp.status().network().ip();
      if (!pod_ip.empty()) pod_ips.push_back(pod_ip);
      for (const auto& ip : resp.status().network().additional_ips()) pod_ips.push_back(ip.ip());
    }
    if (pod.spec.hostNetwork && pod_ip.empty()) pod_ip = options_.host_ip;
  }

  std::vector<std::pair<std::string, std::string>> to_kill;
  for (const auto& k : actions.containers_to_kill) to_kill.emplace_back(k.id, k.name);
  for (const auto& k : actions.containers_to_kill) {
    if (k.reason == kLivenessProbeFailed || k.reason == kStartupProbeFailed) {
      events_->Record("Normal", object, "Killing",
                      absl::StrCat("Container ", k.name, " failed ",
                                   k.reason == kLivenessProbeFailed ? "liveness" : "startup",
                                   " probe, will be restarted"));
    }
  }
  if (!to_kill.empty()) StopContainers(&pod, pod_ip, to_kill, grace, object, actions.containers_to_kill.front().reason);

  volume::PodVolumes volumes;
  bool volumes_ok = true;
  if (sandbox_ok && !actions.containers_to_start.empty()) {
    auto v = volumes_.SetUp(pod);
    if (!v.ok()) {
      volumes_ok = false;
      std::string message = absl::StrCat("MountVolume.SetUp failed: ", v.status().message());
      events_->Record("Warning", object, "FailedMount", message);
      for (const auto& start : actions.containers_to_start) waiting[start.name] = {"ContainerCreating", message};
      result.resync_after = absl::Seconds(2);
    } else {
      volumes = std::move(*v);
    }
  }

  absl::Time now = absl::Now();
  for (const auto& start : actions.containers_to_start) {
    if (!sandbox_ok || !volumes_ok) break;
    const k8s::Container& spec = start.init ? pod.spec.initContainers[start.index] : pod.spec.containers[start.index];
    const ObservedContainer* latest = observed.Latest(spec.name);
    // CrashLoopBackOff: a container that ran before waits out its back-off.
    if (latest && latest->exited()) {
      std::string key = absl::StrCat(uid, "/", spec.name);
      absl::Time finished = absl::FromUnixNanos(latest->finished_at);
      if (crash_backoff_.IsInBackOffSince(key, finished, now)) {
        absl::Duration delay = crash_backoff_.Get(key);
        waiting[spec.name] = {"CrashLoopBackOff",
                              absl::StrCat("back-off ", absl::FormatDuration(delay), " restarting failed container=",
                                           spec.name, " pod=", pod.metadata.name, "_", pod.metadata.namespace_, "(",
                                           uid, ")")};
        events_->Record("Warning", object, "BackOff",
                        absl::StrCat("Back-off restarting failed container ", spec.name));
        absl::Duration left = finished + delay - now;
        if (result.resync_after == absl::ZeroDuration() || left < result.resync_after) result.resync_after = left;
        if (start.init) break;
        continue;
      }
      crash_backoff_.Next(key, finished, now);
    }
    WaitingReason w;
    cri::Image image;
    const char* container_type = start.init ? "init_container" : "container";
    if (!EnsureImage(pod, spec, &w, &image).ok()) {
      waiting[spec.name] = w;
      result.start_errors.push_back({container_type, w.reason});
      absl::Duration again = options_.backoff_base;
      if (result.resync_after == absl::ZeroDuration() || again < result.resync_after) result.resync_after = again;
      if (start.init) break;
      continue;
    }
    ContainerRuntimeInputs in;
    in.restart_count = latest ? latest->restart_count + 1 : 0;
    in.pod_ip = pod_ip;
    in.pod_ips = pod_ips;
    in.host_ip = options_.host_ip;
    absl::StatusOr<cri::ContainerConfig> config = absl::UnknownError("not made");
    if (absl::Status non_root = VerifyRunAsNonRoot(pod, spec, image); !non_root.ok()) {
      config = non_root;
    } else {
      std::map<std::string, std::string> env;
      if (auto e = MakeEnv(pod, spec, in, cri); e.ok()) env.insert(e->begin(), e->end());
      auto mounts = volumes_.MountsFor(pod, spec, volumes, env);
      if (mounts.ok()) {
        in.mounts = std::move(*mounts);
        config = MakeContainerConfig(pod, spec, in, cri);
      } else {
        config = mounts.status();
      }
    }
    if (config.ok() && options_.devices) {
      absl::Status devices = options_.devices->AddContainerDevices(pod, spec, &*config);
      if (!devices.ok()) config = devices;
    }
    if (!config.ok()) {
      waiting[spec.name] = {"CreateContainerConfigError", std::string(config.status().message())};
      result.start_errors.push_back({container_type, "CreateContainerConfigError"});
      events_->Record("Warning", object, "Failed", absl::StrCat("Error: ", config.status().message()));
      if (start.init) break;
      continue;
    }
    MkdirAll(absl::StrCat(sandbox_config.log_directory(), "/", spec.name), 0755).IgnoreError();
    cri::CreateContainerRequest creq;
    creq.set_pod_sandbox_id(sandbox_id);
    *creq.mutable_config() = *config;
    *creq.mutable_sandbox_config() = sandbox_config;
    cri::CreateContainerResponse cresp;
    absl::Status st = runtime_->CreateContainer(creq, &cresp);
    if (!st.ok()) {
      waiting[spec.name] = {"CreateContainerError", std::string(st.message())};
      result.start_errors.push_back({container_type, "CreateContainerError"});
      events_->Record("Warning", object, "Failed", absl::StrCat("Error: ", st.message()));
      result.resync_after = absl::Seconds(2);
      if (start.init) break;
      continue;
    }
    events_->Record("Normal", object, "Created", absl::StrCat("Created container ", spec.name));
    cri::StartContainerRequest sreq;
    sreq.set_container_id(cresp.container_id());
    cri::StartContainerResponse sresp;
    st = runtime_->StartContainer(sreq, &sresp);
    if (!st.ok()) {
      waiting[spec.name] = {"RunContainerError", std::string(st.message())};
      result.start_errors.push_back({container_type, "RunContainerError"});
      events_->Record("Warning", object, "Failed", absl::StrCat("Error: ", st.message()));
      result.resync_after = absl::Seconds(2);
      if (start.init) break;
      continue;
    }
    events_->Record("Normal", object, "Started", absl::StrCat("Started container ", spec.name));
    if (!RunPostStart(pod, spec, cresp.container_id(), pod_ip, grace, &w)) {
      waiting[spec.name] = w;
      result.start_errors.push_back({container_type, w.reason});
      result.resync_after = absl::Seconds(1);
      if (start.init) break;
      continue;
    }
    waiting.erase(spec.name);
  }

  // What the runtime has now, for the status and the garbage collector.
  auto after = ObservePods(*runtime_, uid);
  ObservedPod now_observed = observed;
  if (after.ok()) now_observed = after->empty() ? ObservedPod{} : (*after)[0];
  // A waiting reason stays only while its container is not running.
  for (auto it = waiting.begin(); it != waiting.end();) {
    const auto* c = now_observed.Latest(it->first);
    if (c && c->running()) {
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  GarbageCollect(pod, now_observed, sandbox_id);
  result.observed = now_observed;
  result.pod_ip = pod_ip;
  PodStatusInputs sin;
  sin.waiting = waiting;
  sin.readiness = probes.readiness;
  sin.started = probes.started;
  sin.runtime_name = options_.runtime_name;
  sin.host_ip = options_.host_ip;
  sin.start_time = start_time;
  sin.pod_failed = actions.pod_failed;
  sin.now = absl::Now();
  result.status = ComputePodStatus(pod, now_observed, sin, previous);
  {
    std::lock_guard<std::mutex> lock(waiting_mu_);
    waiting_[uid] = std::move(waiting);
  }
  return result;
}

}  // namespace berth::agent
