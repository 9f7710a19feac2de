#include "agent/prober/probe_manager.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"

namespace berth::agent::prober {

struct ProbeManager::Worker {
  std::string pod_uid;
  std::string container_name;
  ProbeType type = ProbeType::kReadiness;
  k8s::Probe spec;            // with the API's defaults filled in
  k8s::Container container;   // for named ports
  std::string pod_ip;
  std::string container_id;   // the container being probed; "" before the first start
  absl::Time started_at;
  bool running = false;
  bool on_hold = false;       // after a liveness/startup failure, until the next start
  bool stopped = false;       // the pod was removed
  bool in_flight = false;
  bool deferred = false;      // a tick came while a probe was in flight
  uint64_t generation = 0;    // only the newest timer entry counts
  ProbeResult last_result = ProbeResult::kUnknown;
  int result_run = 0;
};

struct ProbeManager::PodEntry {
  std::string uid;
  std::string pod_ip;
  bool terminating = false;
  std::vector<std::shared_ptr<Worker>> workers;
  std::map<std::string, std::string> container_ids;  // name -> current id
  std::map<std::string, bool> running;               // name -> running
};

namespace {

ProbeResult InitialResult(ProbeType type) {
  switch (type) {
    case ProbeType::kReadiness:
      return ProbeResult::kFailure;
    case ProbeType::kLiveness:
      return ProbeResult::kSuccess;
    case ProbeType::kStartup:
      break;
  }
  return ProbeResult::kUnknown;
}

k8s::Probe WithDefaults(k8s::Probe p) {
  if (p.periodSeconds <= 0) p.periodSeconds = 10;
  if (p.timeoutSeconds <= 0) p.timeoutSeconds = 1;
  if (p.successThreshold <= 0) p.successThreshold = 1;
  if (p.failureThreshold <= 0) p.failureThreshold = 3;
  if (p.initialDelaySeconds < 0) p.initialDelaySeconds = 0;
  return p;
}

}  // namespace

ProbeManager::ProbeManager(Options options) : options_(std::move(options)), prober_(options_.exec) {
  int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

ProbeManager::~ProbeManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ProbeManager::AddPod(const k8s::Pod& pod) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& uid = pod.metadata.uid;
  if (pods_.count(uid)) return;
  auto entry = std::make_unique<PodEntry>();
  entry->uid = uid;
  entry->pod_ip = pod.status.podIP;
  auto add = [&](const k8s::Container& c) {
    auto make = [&](const std::optional<k8s::Probe>& probe, ProbeType type) {
      if (!probe) return;
      auto w = std::make_shared<Worker>();
      w->pod_uid = uid;
      w->container_name = c.name;
      w->type = type;
      w->spec = WithDefaults(*probe);
      w->container = c;
      w->pod_ip = entry->pod_ip;
      entry->workers.push_back(std::move(w));
    };
    make(c.startupProbe, ProbeType::kStartup);
    make(c.livenessProbe, ProbeType::kLiveness);
    make(c.readinessProbe, ProbeType::kReadiness);
  };
  for (const auto& c : pod.spec.initContainers) {
    if (c.restartPolicy && *c.restartPolicy == "Always") add(c);  // sidecars are probed
  }
  for (const auto& c : pod.spec.containers) add(c);
  pods_[uid] = std::move(entry);
}

void ProbeManager::RemovePod(const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return;
  for (auto& w : it->second->workers) {
    w->stopped = true;
    ++w->generation;
    if (!w->container_id.empty()) results_.erase(w->container_id);
  }
  pods_.erase(it);
}

void ProbeManager::SetPodIP(const std::string& pod_uid, const std::string& pod_ip) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return;
  it->second->pod_ip = pod_ip;
  for (auto& w : it->second->workers) w->pod_ip = pod_ip;
}

void ProbeManager::ContainerStarted(const std::string& pod_uid, const std::string& container_name,
                                    const std::string& container_id, absl::Time started_at) {
  std::vector<ProbeUpdate> updates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(pod_uid);
    if (it == pods_.end()) return;
    PodEntry& pod = *it->second;
    pod.container_ids[container_name] = container_id;
    pod.running[container_name] = true;
    absl::Time now = absl::Now();
    for (auto& w : pod.workers) {
      if (w->container_name != container_name) continue;
      if (w->container_id == container_id && w->running) continue;  // already known
      if (w->container_id != container_id) {
        if (!w->container_id.empty()) {
          auto r = results_.find(w->container_id);
          if (r != results_.end()) {
            r->second.erase(w->type);
            if (r->second.empty()) results_.erase(r);
          }
        }
        w->container_id = container_id;
        w->last_result = ProbeResult::kUnknown;
        w->result_run = 0;
        w->on_hold = false;
        if (auto u = SetResult(*w, InitialResult(w->type), "")) updates.push_back(*std::move(u));
      }
      w->running = true;
      w->started_at = started_at;
      Schedule(w, std::max(now, started_at + options_.second * w->spec.initialDelaySeconds));
    }
  }
  Deliver(updates);
}

void ProbeManager::ContainerStopped(const std::string& pod_uid, const std::string& container_name,
                                    const std::string& container_id) {
  std::vector<ProbeUpdate> updates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(pod_uid);
    if (it == pods_.end()) return;
    PodEntry& pod = *it->second;
    if (pod.container_ids[container_name] == container_id) pod.running[container_name] = false;
    for (auto& w : pod.workers) {
      if (w->container_name != container_name || w->container_id != container_id) continue;
      w->running = false;
      ++w->generation;
      if (w->type == ProbeType::kReadiness) {
        if (auto u = SetResult(*w, ProbeResult::kFailure, "container exited")) updates.push_back(*std::move(u));
      } else {
        auto r = results_.find(container_id);
        if (r != results_.end()) r->second.erase(w->type);
      }
    }
  }
  Deliver(updates);
}

void ProbeManager::PodTerminating(const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it != pods_.end()) it->second->terminating = true;
}

std::optional<ProbeResult> ProbeManager::Result(const std::string& container_id, ProbeType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = results_.find(container_id);
  if (it == results_.end()) return std::nullopt;
  auto r = it->second.find(type);
  if (r == it->second.end()) return std::nullopt;
  return r->second;
}

ProbeManager::Worker* ProbeManager::FindWorker(const std::string& pod_uid, const std::string& name,
                                               ProbeType type) const {
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return nullptr;
  for (const auto& w : it->second->workers) {
    if (w->container_name == name && w->type == type) return w.get();
  }
  return nullptr;
}

bool ProbeManager::StartedLocked(const PodEntry& pod, const std::string& name, const std::string& container_id) const {
  if (FindWorker(pod.uid, name, ProbeType::kStartup) == nullptr) return true;
  auto it = results_.find(container_id);
  if (it == results_.end()) return false;
  auto r = it->second.find(ProbeType::kStartup);
  return r != it->second.end() && r->second == ProbeResult::kSuccess;
}

bool ProbeManager::IsStarted(const std::string& pod_uid, const std::string& container_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return false;
  const PodEntry& pod = *it->second;
  auto run = pod.running.find(container_name);
  if (run == pod.running.end() || !run->second) return false;
  return StartedLocked(pod, container_name, pod.container_ids.at(container_name));
}

bool ProbeManager::IsReady(const std::string& pod_uid, const std::string& container_name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod_uid);
  if (it == pods_.end()) return false;
  const PodEntry& pod = *it->second;
  auto run = pod.running.find(container_name);
  if (run == pod.running.end() || !run->second) return false;
  const std::string& id = pod.container_ids.at(container_name);
  if (FindWorker(pod_uid, container_name, ProbeType::kReadiness) == nullptr) {
    return StartedLocked(pod, container_name, id);
  }
  auto r = results_.find(id);
  if (r == results_.end()) return false;
  auto rr = r->second.find(ProbeType::kReadiness);
  return rr != r->second.end() && rr->second == ProbeResult::kSuccess;
}

size_t ProbeManager::WorkerCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [uid, pod] : pods_) n += pod->workers.size();
  return n;
}

void ProbeManager::Schedule(const std::shared_ptr<Worker>& w, absl::Time when) {
  ++w->generation;
  timers_.push(TimerEntry{when, w, w->generation});
  cv_.notify_one();
}

std::optional<ProbeUpdate> ProbeManager::SetResult(Worker& w, ProbeResult r, const std::string& output) {
  auto& slot = results_[w.container_id];
  auto it = slot.find(w.type);
  if (it != slot.end() && it->second == r) return std::nullopt;
  slot[w.type] = r;
  return ProbeUpdate{w.pod_uid, w.container_name, w.container_id, w.type, r, output};
}

void ProbeManager::Deliver(const std::vector<ProbeUpdate>& updates) {
  if (!options_.on_update) return;
  for (const auto& u : updates) options_.on_update(u);
}

void ProbeManager::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    TimerEntry top = timers_.top();
    absl::Duration wait = top.when - absl::Now();
    if (wait > absl::ZeroDuration()) {
      cv_.wait_for(lock, absl::ToChronoNanoseconds(wait));
      continue;
    }
    timers_.pop();
    Worker& w = *top.worker;
    if (w.stopped || top.generation != w.generation) continue;
    if (w.in_flight) {
      w.deferred = true;
      continue;
    }
    RunWorker(top.worker, lock);
  }
}

void ProbeManager::RunWorker(const std::shared_ptr<Worker>& wp, std::unique_lock<std::mutex>& lock) {
  Worker& w = *wp;
  if (!w.running || w.on_hold) return;  // the next ContainerStarted schedules it again
  auto pod_it = pods_.find(w.pod_uid);
  if (pod_it == pods_.end()) return;
  PodEntry& pod = *pod_it->second;
  if (pod.terminating && w.type != ProbeType::kReadiness) return;
  absl::Time now = absl::Now();
  absl::Duration period = options_.second * w.spec.periodSeconds;
  absl::Time first = w.started_at + options_.second * w.spec.initialDelaySeconds;
  if (now < first) {
    Schedule(wp, first);
    return;
  }
  bool started = StartedLocked(pod, w.container_name, w.container_id);
  if (w.type == ProbeType::kStartup && started) return;  // done once started
  if (w.type != ProbeType::kStartup && !started) {
    Schedule(wp, now + period);  // gated by the startup probe
    return;
  }

  w.in_flight = true;
  const uint64_t generation = w.generation;
  ProbeTarget target{&w.container, w.container_id, w.pod_ip};
  k8s::Probe spec = w.spec;
  lock.unlock();
  ProbeOutcome out = prober_.Run(spec, target, options_.second * spec.timeoutSeconds);
  lock.lock();
  // Back under the lock after running unlocked: false when the worker stopped
  // or its container changed meanwhile (what was found is stale; a deferred
  // probe runs now).
  auto still_current = [&] {
    w.in_flight = false;
    if (w.stopped) return false;
    if (generation != w.generation) {
      if (w.deferred) {
        w.deferred = false;
        Schedule(wp, absl::Now());
      }
      return false;
    }
    w.deferred = false;
    return true;
  };
  if (!still_current()) return;
  if (out.result == ProbeResult::kUnknown) {
    // The probe could not run (kubelet: "probe errored"): keep the old result.
    BERTH_LOG(Warning) << "probe errored" << Kv("pod", w.pod_uid) << Kv("container", w.container_name)
                       << Kv("probe", ProbeTypeName(w.type)) << Kv("error", out.output);
    Schedule(wp, now + period);
    return;
  }
  ProbeResult result = out.result == ProbeResult::kFailure ? ProbeResult::kFailure : ProbeResult::kSuccess;
  if (w.last_result == result) {
    ++w.result_run;
  } else {
    w.last_result = result;
    w.result_run = 1;
  }
  std::vector<ProbeUpdate> updates;
  bool below = (result == ProbeResult::kFailure && w.result_run < w.spec.failureThreshold) ||
               (result == ProbeResult::kSuccess && w.result_run < w.spec.successThreshold);
  bool kick_others = false;
  if (!below) {
    if (auto u = SetResult(w, result, out.output)) updates.push_back(*std::move(u));
    if ((w.type == ProbeType::kLiveness || w.type == ProbeType::kStartup) && result == ProbeResult::kFailure) {
      w.on_hold = true;  // the container will be restarted
      w.result_run = 0;
    }
    kick_others = w.type == ProbeType::kStartup && result == ProbeResult::kSuccess;
  }
  if (!updates.empty()) {
    // Deliver before the next probe of this worker can run, so that one
    // worker's updates arrive in order.
    w.in_flight = true;
    lock.unlock();
    Deliver(updates);
    lock.lock();
    if (!still_current()) return;
  }
  if (kick_others) {
    // Started: liveness and readiness begin now instead of at their next tick.
    for (auto& other : pod.workers) {
      if (other->container_name != w.container_name || other.get() == &w || !other->running) continue;
      absl::Time at = std::max(absl::Now(), other->started_at + options_.second * other->spec.initialDelaySeconds);
      if (other->in_flight) {
        other->deferred = true;
        ++other->generation;
      } else {
        Schedule(other, at);
      }
    }
  }
  if (!w.on_hold && !(w.type == ProbeType::kStartup && result == ProbeResult::kSuccess && !below)) {
    Schedule(wp, std::max(now + period, absl::Now()));
  }
}

}  // namespace berth::agent::prober
