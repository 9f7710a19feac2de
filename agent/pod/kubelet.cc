#include "absl/time/clock.h"
#include "agent/pod/kubelet.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/pod/labels.h"
#include "agent/pod/pod_actions.h"
#include "agent/prober/cri_exec.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

std::string FirstHostIp() {
  ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) != 0) return "";
  std::string ip;
  for (ifaddrs* a = addrs; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK)) continue;
    if (!(a->ifa_flags & IFF_UP)) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof(buf));
    ip = buf;
    break;
  }
  freeifaddrs(addrs);
  return ip;
}

int64_t NodeMemoryBytes() {
  auto text = ReadFile("/proc/meminfo");
  if (!text.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (!absl::StartsWith(line, "MemTotal:")) continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kb = 0;
    if (f.size() >= 2 && absl::SimpleAtoi(f[1], &kb)) return kb * 1024;
  }
  return 0;
}

std::unique_ptr<PodCgroups> MakePodCgroups(const KubeletOptions& o) {
  if (!o.cgroups || o.cgroups->Driver() != "cgroupfs") return nullptr;  // systemd slices: the runtime's own
  PodCgroupsOptions p;
  p.root = o.config.cgroupRoot.empty() ? o.default_cgroup_root : o.config.cgroupRoot;
  p.per_qos = o.config.cgroupsPerQOS;
  p.pids_limit = o.config.podPidsLimit;
  return std::make_unique<PodCgroups>(o.cgroups, p);
}

// Set while the kubelet itself tells the prober of a start or stop: the
// results delivered then are initial values, not probe runs (no event).
thread_local bool t_following_containers = false;

PodSyncOptions SyncOptions(const KubeletOptions& o, PodCgroups* pod_cgroups) {
  PodSyncOptions s;
  s.cri.pod_logs_dir = o.config.podLogsDir;
  s.cri.cluster_dns = o.config.clusterDNS;
  s.cri.cluster_domain = o.config.clusterDomain;
  if (!o.config.resolvConf.empty()) {
    auto text = ReadFile(o.config.resolvConf);
    if (text.ok()) s.cri.host_resolv_conf = *text;
  }
  s.cri.node_memory_bytes = NodeMemoryBytes();
  s.cri.node_milli_cpu = sysconf(_SC_NPROCESSORS_ONLN) * 1000;
  s.pods_dir = o.pods_dir;
  s.runtime_name = o.runtime_name;
  s.host_ip = FirstHostIp();
  s.serialize_image_pulls = o.config.serializeImagePulls;
  s.backoff_base = o.config.crashLoopBackOffBase;
  s.backoff_max = o.config.crashLoopBackOffMax;
  s.devices = o.devices;
  s.pod_cgroups = pod_cgroups;
  return s;
}

}  // namespace

Kubelet::Kubelet(RuntimeService* runtime, ImageService* images, KubeletOptions options)
    : runtime_(runtime),
      images_(images),
      options_(std::move(options)),
      pod_cgroups_(MakePodCgroups(options_)),
      syncer_(runtime, images, &events_, SyncOptions(options_, pod_cgroups_.get())),
      config_([this](const std::vector<PodUpdate>& updates) { HandleUpdates(updates); },
              [this](const std::string& source, const k8s::Pod& pod, const std::string& other) {
                events_.Record("Warning", PodObject(pod), "DuplicatePod",
                               absl::StrCat("pod from source ", source, " has the name of a pod from ", other,
                                            "; the first one wins"));
              }) {}

Kubelet::~Kubelet() { Stop(); }

bool Kubelet::SourcesReady() {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_pending_.empty();
}

void Kubelet::SetSourcePods(const std::string& source, std::vector<k8s::Pod> pods) {
  config_.Set(source, std::move(pods));
  bool became_ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    became_ready = sources_pending_.erase(source) > 0 && sources_pending_.empty();
  }
  if (became_ready) {  // every source has spoken: clean up what none wants now
    std::lock_guard<std::mutex> lock(relist_mu_);
    relist_now_ = true;
    relist_cv_.notify_all();
  }
}

absl::Status Kubelet::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sources_pending_.insert(options_.wait_for_sources.begin(), options_.wait_for_sources.end());
  }
  workers_ = std::make_unique<PodWorkers>(options_.workers, [this](const std::string& uid) { Work(uid); });
  prober::ProbeManager::Options probe_options;
  RuntimeService* runtime = runtime_;
  probe_options.exec = prober::ExecViaExecSync(
      [runtime](const cri::ExecSyncRequest& req, cri::ExecSyncResponse* resp) { return runtime->ExecSync(req, resp); });
  probe_options.on_update = [this](const prober::ProbeUpdate& u) { OnProbeUpdate(u); };
  probe_options.second = options_.probe_second;
  probe_manager_ = std::make_unique<prober::ProbeManager>(std::move(probe_options));
  if (pod_cgroups_) RETURN_IF_ERROR(pod_cgroups_->EnsureTiers());
  // Volumes a crashed agent left behind for pods the runtime no longer has
  // (pods it still has keep theirs; a desired pod sets its volumes up again).
  if (auto observed = ObservePods(*runtime_); observed.ok()) {
    std::set<std::string> active;
    for (const auto& p : *observed) active.insert(p.uid);
    auto removed = syncer_.volumes().CleanupOrphans(active);
    if (!removed.ok()) {
      BERTH_LOG(Warning) << "clean up orphaned pod volumes" << Kv("error", removed.status().ToString());
    } else if (!removed->empty()) {
      BERTH_LOG(Info) << "removed orphaned pod volumes" << Kv("pods", removed->size());
    }
  }
  events_thread_ = std::thread([this] { EventLoop(); });
  relist_thread_ = std::thread([this] { RelistLoop(); });
  if (!options_.config.staticPodPath.empty()) {
    source_ = std::make_unique<StaticPodSource>(
        options_.config.staticPodPath, options_.config.nodeName, options_.config.fileCheckFrequency,
        [this](std::vector<k8s::Pod> pods) { config_.Set("file", std::move(pods)); },
        [this](const std::string& file, const std::string& message) {
          if (message.empty()) {
            events_.Record("Normal", "file/" + file, "ManifestFixed", "the manifest is valid again");
          } else {
            events_.Record("Warning", "file/" + file, "FailedToParse",
                           absl::StrCat("Could not process manifest file ", file, ": ", message));
          }
        });
    absl::Status st = source_->Start();
    if (!st.ok()) return st;
  }
  // Pods the runtime has but no source wants are killed by the first relist.
  Relist();
  started_ = true;
  BERTH_LOG(Info) << "kubelet started" << Kv("node", options_.config.nodeName)
                  << Kv("staticPodPath", options_.config.staticPodPath);
  return absl::OkStatus();
}

void Kubelet::Stop() {
  if (stopping_.exchange(true)) return;
  if (source_) source_->Stop();
  {
    std::lock_guard<std::mutex> lock(relist_mu_);
    relist_cv_.notify_all();
  }
  if (relist_thread_.joinable()) relist_thread_.join();
  if (events_thread_.joinable()) events_thread_.join();
  probe_manager_.reset();  // no probe result arrives after this
  if (workers_) workers_->Stop();
}

void Kubelet::HandleUpdates(const std::vector<PodUpdate>& in) {
  // Removals first: a replacement pod of the same name must see its predecessor terminating.
  std::vector<PodUpdate> updates;
  for (const auto& u : in) {
    if (u.op == PodOp::kRemove) updates.push_back(u);
  }
  for (const auto& u : in) {
    if (u.op != PodOp::kRemove) updates.push_back(u);
  }
  for (const auto& u : updates) {
    const std::string& uid = u.pod.metadata.uid;
    std::string object = PodObject(u.pod);
    if (u.op == PodOp::kRemove) {
      BERTH_LOG(Info) << "pod removed" << Kv("pod", object) << Kv("uid", uid);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (rejected_.erase(uid)) continue;
        terminating_[uid] = u.pod;
      }
      manager_.Remove(uid);
      // No longer an active pod: its devices may go to the next pod (the kubelet's UpdateAllocatedDevices).
      if (options_.devices) options_.devices->RemovePod(uid);
      workers_->Enqueue(uid);
      continue;
    }
    if (u.op == PodOp::kAdd) {
      BERTH_LOG(Info) << "pod added" << Kv("pod", object) << Kv("uid", uid) << Kv("source", u.source);
      // Admission: maxPods.
      size_t active = manager_.Size();
      if (static_cast<int64_t>(active) >= options_.config.maxPods) {
        k8s::Pod rejected = u.pod;
        rejected.status.phase = "Failed";
        rejected.status.reason = "OutOfpods";
        rejected.status.message = absl::StrCat("Node didn't have enough resource: pods, requested: 1, used: ", active,
                                               ", capacity: ", options_.config.maxPods);
        events_.Record("Warning", object, "OutOfpods", rejected.status.message);
        if (options_.observer) options_.observer->PodRejected(rejected, rejected.status);
        std::lock_guard<std::mutex> lock(mu_);
        rejected_[uid] = rejected;
        continue;
      }
      // Admission: devices (the kubelet's device manager admit handler).
      if (options_.devices) {
        absl::Status devices = options_.devices->AllocatePod(u.pod);
        if (!devices.ok()) {
          k8s::Pod rejected = u.pod;
          rejected.status.phase = "Failed";
          rejected.status.reason = "UnexpectedAdmissionError";
          rejected.status.message = std::string(devices.message());
          events_.Record("Warning", object, "UnexpectedAdmissionError", rejected.status.message);
          if (options_.observer) options_.observer->PodRejected(rejected, rejected.status);
          std::lock_guard<std::mutex> lock(mu_);
          rejected_[uid] = rejected;
          continue;
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      start_times_.emplace(uid, absl::Now());
      terminating_.erase(uid);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (rejected_.count(uid)) {
        rejected_[uid].metadata = u.pod.metadata;
        continue;
      }
    }
    manager_.Upsert(u.pod);
    workers_->Enqueue(uid);
  }
}

void Kubelet::Work(const std::string& uid) {
  if (stopping_) return;
  auto pod = manager_.Get(uid);
  if (!pod) {
    std::optional<k8s::Pod> removed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = terminating_.find(uid);
      if (it != terminating_.end()) removed = it->second;
    }
    // A pod the runtime has that no source named yet may belong to a source still to be heard from.
    if (!removed && !SourcesReady()) return;
    if (probe_manager_) probe_manager_->PodTerminating(uid);
    absl::Status st = syncer_.KillPod(uid, removed ? &*removed : nullptr, std::nullopt);
    if (!st.ok()) {
      BERTH_LOG(Warning) << "kill pod" << Kv("uid", uid) << Kv("error", st.ToString());
      workers_->EnqueueAfter(uid, absl::Seconds(2));
      return;
    }
    if (options_.devices) options_.devices->RemovePod(uid);
    if (options_.observer) options_.observer->PodKilled(uid);
    ForgetContainers(uid);
    // Every container has stopped: nothing uses the volumes any more.
    syncer_.TearDownVolumes(uid).IgnoreError();
    std::string full_name;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (removed) full_name = removed->metadata.namespace_ + "/" + removed->metadata.name;
      terminating_.erase(uid);
      statuses_.erase(uid);
      start_times_.erase(uid);
      probes_.erase(uid);
    }
    // A pod of the same name (an edited static pod) waited for this one to end.
    for (const auto& other : manager_.List()) {
      if (other.metadata.namespace_ + "/" + other.metadata.name == full_name) workers_->Enqueue(other.metadata.uid);
    }
    return;
  }
  {
    // As the kubelet does for static pods: a pod starts only once the pod it
    // replaces (same namespace/name, another UID) has terminated.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [other_uid, other] : terminating_) {
      if (other_uid != uid && other.metadata.namespace_ == pod->metadata.namespace_ &&
          other.metadata.name == pod->metadata.name) {
        return;  // re-enqueued when that pod's kill completes
      }
    }
  }
  k8s::PodStatus previous;
  bool has_previous = false;
  absl::Time start_time;
  ProbeState probes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = statuses_.find(uid);
    if (it != statuses_.end()) {
      previous = it->second;
      has_previous = true;
    }
    start_time = start_times_.count(uid) ? start_times_[uid] : absl::Now();
    probes = probes_[uid];
    probes_[uid].liveness_failed.clear();  // acted on by this sync
  }
  absl::Time sync_begin = absl::Now();
  SyncResult r = syncer_.SyncPod(*pod, has_previous ? &previous : nullptr, start_time, probes);
  if (options_.observer) {
    options_.observer->PodSynced(*pod, start_time, has_previous ? &previous : nullptr, r.status,
                                 absl::Now() - sync_begin);
    for (const auto& e : r.start_errors) options_.observer->ContainerStartFailed(e.container_type, e.code);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (manager_.Get(uid)) statuses_[uid] = r.status;
  }
  // A finished pod (Succeeded/Failed) is not active: its devices are free.
  if (options_.devices && (r.status.phase == "Succeeded" || r.status.phase == "Failed")) {
    options_.devices->RemovePod(uid);
  }
  FollowContainers(*pod, r);
  if (r.resync_after > absl::ZeroDuration()) workers_->EnqueueAfter(uid, r.resync_after);
}

void Kubelet::EventLoop() {
  auto stream = runtime_->GetContainerEvents();
  if (!stream.ok()) {
    BERTH_LOG(Warning) << "no container events; relying on the relist" << Kv("error", stream.status().ToString());
    return;
  }
  while (!stopping_) {
    auto event = (*stream)->Next(absl::Milliseconds(500));
    if (!event) {
      if ((*stream)->ended()) {
        if (stopping_) return;
        auto again = runtime_->GetContainerEvents();
        if (!again.ok()) return;
        stream = std::move(again);
        std::unique_lock<std::mutex> lock(relist_mu_);
        relist_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_.load(); });
      }
      continue;
    }
    const auto& labels = event->pod_sandbox_status().labels();
    auto it = labels.find(kPodUidLabel);
    std::string uid;
    if (it != labels.end()) {
      uid = it->second;
    } else if (!event->containers_statuses().empty()) {
      auto c = event->containers_statuses(0).labels().find(kPodUidLabel);
      if (c != event->containers_statuses(0).labels().end()) uid = c->second;
    }
    if (uid.empty()) continue;
    if (event->container_event_type() == cri::CONTAINER_STOPPED_EVENT ||
        event->container_event_type() == cri::CONTAINER_STARTED_EVENT) {
      workers_->Enqueue(uid);
    }
  }
}

void Kubelet::RelistLoop() {
  std::unique_lock<std::mutex> lock(relist_mu_);
  while (!stopping_) {
    relist_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.config.syncFrequency),
                        [&] { return stopping_.load() || relist_now_; });
    if (stopping_) return;
    relist_now_ = false;
    lock.unlock();
    Relist();
    lock.lock();
  }
}

void Kubelet::Relist() {
  auto pods = ObservePods(*runtime_);
  if (!pods.ok()) {
    BERTH_LOG(Warning) << "relist" << Kv("error", pods.status().ToString());
    return;
  }
  const bool sources_ready = SourcesReady();
  for (const auto& observed : *pods) {
    if (manager_.Get(observed.uid)) continue;
    if (!sources_ready) continue;  // it may be a pod of a source not heard from yet
    bool live = false;
    for (const auto& s : observed.sandboxes) live |= s.ready;
    for (const auto& c : observed.containers) live |= c.running();
    if (live) {
      workers_->Enqueue(observed.uid);  // Work() kills it: no source wants it
    } else {
      bool terminating;
      {
        std::lock_guard<std::mutex> lock(mu_);
        terminating = terminating_.count(observed.uid) > 0;
      }
      if (!terminating) {
        absl::Status st = syncer_.RemovePod(observed);
        if (!st.ok()) {
          BERTH_LOG(Warning) << "remove pod" << Kv("uid", observed.uid) << Kv("error", st.ToString());
        }
      }
    }
  }
  if (pod_cgroups_ && sources_ready) RemoveOrphanedPodCgroups(*pods);
  for (const auto& pod : manager_.List()) workers_->Enqueue(pod.metadata.uid);
  syncer_.crash_backoff().GC(absl::Now());
}

void Kubelet::RemoveOrphanedPodCgroups(const std::vector<ObservedPod>& observed) {
  auto uids = pod_cgroups_->ListPodUids();
  if (!uids.ok()) {
    BERTH_LOG(Warning) << "list pod cgroups" << Kv("error", uids.status().ToString());
    return;
  }
  std::set<std::string> known;
  for (const auto& p : observed) known.insert(p.uid);
  for (const std::string& uid : *uids) {
    // A wanted pod's worker makes its cgroup; a removed one is in terminating_
    // (set before it leaves the manager) until KillPod removed the cgroup.
    if (known.count(uid) || manager_.Get(uid)) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (terminating_.count(uid)) continue;
    }
    absl::Status st = pod_cgroups_->Destroy(uid);
    if (st.ok()) {
      BERTH_LOG(Info) << "removed an orphaned pod cgroup" << Kv("uid", uid);
    } else {
      BERTH_LOG(Warning) << "remove an orphaned pod cgroup" << Kv("uid", uid) << Kv("error", st.ToString());
    }
  }
}

std::vector<k8s::Pod> Kubelet::GetPods() {
  std::vector<k8s::Pod> out;
  auto desired = manager_.List();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& pod : desired) {
    auto it = statuses_.find(pod.metadata.uid);
    if (it != statuses_.end()) {
      pod.status = it->second;
    } else {
      pod.status.phase = "Pending";
    }
    out.push_back(std::move(pod));
  }
  for (const auto& [uid, pod] : rejected_) out.push_back(pod);
  std::sort(out.begin(), out.end(), [](const k8s::Pod& a, const k8s::Pod& b) {
    return std::tie(a.metadata.namespace_, a.metadata.name) < std::tie(b.metadata.namespace_, b.metadata.name);
  });
  return out;
}

void Kubelet::SetReadiness(const std::string& uid, const std::string& container_id, bool ready) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = probes_[uid];
    auto it = p.readiness.find(container_id);
    if (it != p.readiness.end() && it->second == ready) return;
    p.readiness[container_id] = ready;
  }
  workers_->Enqueue(uid);
}

void Kubelet::SetStarted(const std::string& uid, const std::string& container_id, bool started) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = probes_[uid];
    auto it = p.started.find(container_id);
    if (it != p.started.end() && it->second == started) return;
    p.started[container_id] = started;
  }
  workers_->Enqueue(uid);
}

void Kubelet::ReportProbeFailure(const std::string& uid, const std::string& container_name,
                                 const std::string& container_id, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    probes_[uid].liveness_failed[container_name] = {container_id, reason};
  }
  workers_->Enqueue(uid);
}

void Kubelet::OnProbeUpdate(const prober::ProbeUpdate& u) {
  auto pod = manager_.Get(u.pod_uid);
  if (!pod) return;
  std::string object = PodObject(*pod);
  if (u.result == prober::ProbeResult::kFailure && !t_following_containers) {
    std::string output = u.output;
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    events_.Record("Warning", object, "Unhealthy",
                   absl::StrCat(prober::ProbeTypeName(u.type), " probe failed: ", output));
  }
  switch (u.type) {
    case prober::ProbeType::kReadiness:
      SetReadiness(u.pod_uid, u.container_id, u.result == prober::ProbeResult::kSuccess);
      break;
    case prober::ProbeType::kStartup:
      if (u.result == prober::ProbeResult::kFailure) {
        ReportProbeFailure(u.pod_uid, u.container_name, u.container_id, kStartupProbeFailed);
      } else {
        SetStarted(u.pod_uid, u.container_id, u.result == prober::ProbeResult::kSuccess);
      }
      break;
    case prober::ProbeType::kLiveness:
      if (u.result == prober::ProbeResult::kFailure) {
        ReportProbeFailure(u.pod_uid, u.container_name, u.container_id, kLivenessProbeFailed);
      }
      break;
  }
}

void Kubelet::FollowContainers(const k8s::Pod& pod, const SyncResult& r) {
  if (!probe_manager_) return;
  const std::string& uid = pod.metadata.uid;
  std::vector<const ObservedContainer*> started;
  std::vector<std::pair<std::string, std::string>> stopped;  // id, name
  {
    std::lock_guard<std::mutex> lock(probed_mu_);
    auto& known = probed_[uid];
    std::set<std::string> running;
    for (const auto& c : r.observed.containers) {
      if (!c.running()) continue;
      running.insert(c.id);
      if (known.emplace(c.id, c.name).second) started.push_back(&c);
    }
    for (auto it = known.begin(); it != known.end();) {
      if (running.count(it->first)) {
        ++it;
        continue;
      }
      stopped.emplace_back(it->first, it->second);
      it = known.erase(it);
    }
  }
  // Outside the locks: ContainerStopped reports readiness from this thread.
  probe_manager_->AddPod(pod);
  if (!r.pod_ip.empty()) probe_manager_->SetPodIP(uid, r.pod_ip);
  t_following_containers = true;
  for (const auto& [id, name] : stopped) probe_manager_->ContainerStopped(uid, name, id);
  for (const auto* c : started) {
    probe_manager_->ContainerStarted(uid, c->name, c->id, absl::FromUnixNanos(c->started_at));
  }
  t_following_containers = false;
  if (!stopped.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = probes_[uid];
    for (const auto& [id, name] : stopped) {
      p.readiness.erase(id);
      p.started.erase(id);
    }
  }
}

void Kubelet::ForgetContainers(const std::string& uid) {
  if (probe_manager_) probe_manager_->RemovePod(uid);
  std::lock_guard<std::mutex> lock(probed_mu_);
  probed_.erase(uid);
}

}  // namespace berth::agent
