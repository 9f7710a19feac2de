#include "agent/devices/device_manager.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/devices/container_devices.h"
#include "agent/devices/device_selection.h"
#include "agent/devices/extended_resources.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent::devices {
namespace {

constexpr char kHealthy[] = "Healthy";

std::string PodName(const k8s::Pod& pod) { return pod.metadata.namespace_ + "/" + pod.metadata.name; }

}  // namespace

DeviceManager::DeviceManager(DeviceManagerOptions options) : options_(std::move(options)) {}

DeviceManager::~DeviceManager() { Stop(); }

absl::Status DeviceManager::Start() {
  RETURN_IF_ERROR(MkdirAll(options_.plugins_dir, 0755));
  const std::string checkpoint_path = options_.plugins_dir + "/" + kCheckpointFile;
  auto checkpoint = ReadCheckpoint(checkpoint_path);
  if (!checkpoint.ok()) {
    // As the kubelet: go on without it (allocations made before are not known).
    BERTH_LOG(Error) << "devices: cannot read the checkpoint; starting without it"
                     << Kv("error", checkpoint.status().ToString());
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Time now = absl::Now();
    for (auto& e : checkpoint->entries) {
      allocations_[e.pod_uid][e.container_name][e.resource_name] = {e.device_ids, std::move(e.response)};
    }
    // The devices last seen stay listed while their plugins register again
    // (within the grace period), so allocatable survives a restart.
    for (const auto& [resource, ids] : checkpoint->registered_devices) {
      Resource& r = resources_[resource];
      for (const auto& id : ids) r.devices[id] = true;
      r.stopped_at = now;
    }
    if (!checkpoint->entries.empty() || !checkpoint->registered_devices.empty()) {
      BERTH_LOG(Info) << "devices: restored the checkpoint" << Kv("allocations", checkpoint->entries.size())
                      << Kv("resources", checkpoint->registered_devices.size());
    }
  }
  grace_thread_ = std::thread([this] { GraceLoop(); });
  const std::string socket = options_.plugins_dir + "/" + kKubeletSocket;
  auto server = RegistrationServer::Start(socket, [this](const v1beta1::RegisterRequest& r) { return Register(r); });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  BERTH_LOG(Info) << "devices: serving device plugin registration" << Kv("socket", socket);
  return absl::OkStatus();
}

void DeviceManager::Stop() {
  if (server_) server_->Stop();
  std::vector<std::shared_ptr<PluginEndpoint>> endpoints;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !grace_thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
    for (auto& [name, r] : resources_) {
      if (r.endpoint) endpoints.push_back(r.endpoint);
    }
    for (auto& e : retired_) endpoints.push_back(e);
    retired_.clear();
  }
  if (grace_thread_.joinable()) grace_thread_.join();
  for (auto& e : endpoints) e->Stop();
}

absl::Status DeviceManager::Register(const v1beta1::RegisterRequest& request) {
  const std::string& resource = request.resource_name();
  if (request.version() != kDevicePluginVersion) {
    return absl::InvalidArgumentError(absl::StrCat("version: \"", request.version(), "\" is not supported (", resource,
                                                   "); the agent serves ", kDevicePluginVersion));
  }
  std::string name_error = ExtendedResourceNameError(resource);
  if (!name_error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_name: \"", resource, "\" is not an extended resource name: ", name_error));
  }
  const std::string& endpoint = request.endpoint();
  if (endpoint.empty() || endpoint.find('/') != std::string::npos || endpoint == "." || endpoint == ".." ||
      endpoint == kKubeletSocket) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint: \"", endpoint,
                                                   "\" must be a socket file name in ", options_.plugins_dir));
  }
  const std::string path = options_.plugins_dir + "/" + endpoint;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint: \"", endpoint, "\": ", path, " is not a socket"));
  }
  std::shared_ptr<PluginEndpoint> retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the agent is stopping");
    Resource& r = resources_[resource];
    if (r.endpoint && r.endpoint->live()) {
      struct stat old {};
      bool same_socket = stat(r.endpoint->socket_path().c_str(), &old) == 0 &&
                         old.st_ino == r.endpoint->socket_inode();
      if (same_socket) {
        return absl::AlreadyExistsError(absl::StrCat("resource_name: ", resource,
                                                     " is already registered by a live plugin at ",
                                                     r.endpoint->socket_path()));
      }
    }
    retired = std::move(r.endpoint);
    r.streaming = false;
    r.plugin_options = request.options();
    PluginEndpoint::Callbacks callbacks;
    callbacks.connected = [this](PluginEndpoint* ep, const v1beta1::DevicePluginOptions& o) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = resources_.find(ep->resource());
      if (it != resources_.end() && it->second.endpoint.get() == ep) it->second.plugin_options = o;
    };
    callbacks.devices = [this](PluginEndpoint* ep, const std::vector<v1beta1::Device>& d) { OnDevices(ep, d); };
    callbacks.ended = [this](PluginEndpoint* ep, const absl::Status& s) { OnEnded(ep, s); };
    auto ep = std::make_shared<PluginEndpoint>(resource, path, options_.rpc_timeout, std::move(callbacks));
    r.endpoint = ep;
    if (retired) retired_.push_back(std::move(retired));
    cv_.notify_all();
    ep->Start();
  }
  BERTH_LOG(Info) << "devices: plugin registered" << Kv("resource", resource) << Kv("endpoint", path)
                  << Kv("preStartRequired", request.options().pre_start_required() ? "true" : "false")
                  << Kv("preferredAllocation",
                        request.options().get_preferred_allocation_available() ? "true" : "false");
  return absl::OkStatus();
}

void DeviceManager::OnDevices(PluginEndpoint* endpoint, const std::vector<v1beta1::Device>& devices) {
  bool ids_changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = resources_.find(endpoint->resource());
    if (it == resources_.end() || it->second.endpoint.get() != endpoint) return;
    Resource& r = it->second;
    std::map<std::string, bool> next;
    for (const auto& d : devices) next[d.id()] = d.health() == kHealthy;
    int healthy = 0;
    for (const auto& [id, ok] : next) healthy += ok;
    for (const auto& [id, ok] : next) {
      auto old = r.devices.find(id);
      if (old != r.devices.end() && old->second != ok) {
        BERTH_LOG(Info) << "devices: device health changed" << Kv("resource", endpoint->resource())
                        << Kv("device", id) << Kv("health", ok ? "Healthy" : "Unhealthy");
      }
    }
    ids_changed = next.size() != r.devices.size() ||
                  !std::equal(next.begin(), next.end(), r.devices.begin(),
                              [](const auto& a, const auto& b) { return a.first == b.first; });
    if (!r.streaming || ids_changed) {
      BERTH_LOG(Info) << "devices: plugin devices" << Kv("resource", endpoint->resource())
                      << Kv("devices", static_cast<long long>(next.size())) << Kv("healthy", healthy);
    }
    r.devices = std::move(next);
    r.streaming = true;
    r.stopped_at.reset();
  }
  if (ids_changed) SaveCheckpoint();
}

void DeviceManager::OnEnded(PluginEndpoint* endpoint, const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = resources_.find(endpoint->resource());
  if (it == resources_.end() || it->second.endpoint.get() != endpoint) return;
  Resource& r = it->second;
  r.streaming = false;
  for (auto& [id, healthy] : r.devices) healthy = false;
  r.stopped_at = absl::Now();
  BERTH_LOG(Warning) << "devices: plugin gone; its devices are unhealthy until it registers again"
                     << Kv("resource", endpoint->resource()) << Kv("grace", absl::FormatDuration(options_.grace_period))
                     << Kv("error", status.ToString());
  cv_.notify_all();
}

void DeviceManager::GraceLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!retired_.empty()) {
      // Replaced endpoints are stopped here, never on their own callback thread.
      auto retired = std::move(retired_);
      retired_.clear();
      lock.unlock();
      for (auto& e : retired) e->Stop();
      lock.lock();
      continue;
    }
    absl::Time now = absl::Now();
    std::optional<absl::Time> next;
    bool removed = false;
    for (auto it = resources_.begin(); it != resources_.end();) {
      Resource& r = it->second;
      bool waiting = r.stopped_at && !r.streaming && !(r.endpoint && r.endpoint->live());
      if (!waiting) {
        ++it;
        continue;
      }
      absl::Time expires = *r.stopped_at + options_.grace_period;
      if (expires <= now) {
        BERTH_LOG(Warning) << "devices: plugin did not come back within the grace period; resource removed"
                           << Kv("resource", it->first) << Kv("devices", static_cast<long long>(r.devices.size()));
        if (r.endpoint) retired_.push_back(std::move(r.endpoint));
        it = resources_.erase(it);
        removed = true;
        continue;
      }
      if (!next || expires < *next) next = expires;
      ++it;
    }
    if (removed) {
      lock.unlock();
      SaveCheckpoint();
      lock.lock();
      continue;
    }
    if (next) {
      cv_.wait_for(lock, absl::ToChronoNanoseconds(*next - now));
    } else {
      cv_.wait(lock);
    }
  }
}

std::set<std::string> DeviceManager::InUseLocked(const std::string& resource) const {
  std::set<std::string> out;
  for (const auto& [uid, containers] : allocations_) {
    for (const auto& [name, resources] : containers) {
      auto it = resources.find(resource);
      if (it != resources.end()) out.insert(it->second.device_ids.begin(), it->second.device_ids.end());
    }
  }
  return out;
}

absl::Status DeviceManager::AllocatePod(const k8s::Pod& pod) {
  std::lock_guard<std::mutex> allocating(allocate_mu_);
  std::map<std::string, std::set<std::string>> reusable;  // resource -> init containers' devices
  std::vector<std::pair<std::string, std::string>> added;  // (container, resource)
  absl::Status st;
  for (const auto& c : pod.spec.initContainers) {
    // A sidecar (restartPolicy Always) runs beside the app containers: its devices are its own.
    bool sidecar = c.restartPolicy.value_or("") == "Always";
    st = AllocateContainer(pod, c, !sidecar, &reusable, &added);
    if (!st.ok()) break;
  }
  if (st.ok()) {
    for (const auto& c : pod.spec.containers) {
      st = AllocateContainer(pod, c, false, &reusable, &added);
      if (!st.ok()) break;
    }
  }
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto pod_it = allocations_.find(pod.metadata.uid);
    if (pod_it != allocations_.end()) {
      for (const auto& [container, resource] : added) {
        auto c = pod_it->second.find(container);
        if (c == pod_it->second.end()) continue;
        c->second.erase(resource);
        if (c->second.empty()) pod_it->second.erase(c);
      }
      if (pod_it->second.empty()) allocations_.erase(pod_it);
    }
  }
  if (!added.empty() && st.ok()) SaveCheckpoint();
  if (!st.ok()) {
    BERTH_LOG(Warning) << "devices: admission failed" << Kv("pod", PodName(pod)) << Kv("error", st.ToString());
    return absl::Status(st.code(), absl::StrCat("Allocate failed due to ", st.message(), ", which is unexpected"));
  }
  return absl::OkStatus();
}

absl::Status DeviceManager::AllocateContainer(const k8s::Pod& pod, const k8s::Container& container, bool init,
                                              std::map<std::string, std::set<std::string>>* reusable,
                                              std::vector<std::pair<std::string, std::string>>* added) {
  const std::string& uid = pod.metadata.uid;
  for (const auto& [resource, needed] : ExtendedResourceLimits(container)) {
    SelectionRequest selection;
    selection.resource = resource;
    selection.needed = needed;
    std::shared_ptr<PluginEndpoint> endpoint;
    v1beta1::DevicePluginOptions plugin_options;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto held = allocations_.find(uid);
      if (held != allocations_.end()) {
        auto c = held->second.find(container.name);
        if (c != held->second.end()) {
          auto a = c->second.find(resource);
          if (a != c->second.end()) {
            // Allocated before (a restarted agent, or the pod admitted again): kept.
            auto& pool = (*reusable)[resource];
            for (const auto& id : a->second.device_ids) init ? (void)pool.insert(id) : (void)pool.erase(id);
            continue;
          }
        }
      }
      auto r = resources_.find(resource);
      if (r == resources_.end()) continue;  // no plugin has this resource: not a device (as the kubelet)
      std::set<std::string> in_use = InUseLocked(resource);
      for (const auto& [id, healthy] : r->second.devices) {
        if (healthy && !in_use.count(id)) selection.available.push_back(id);
      }
      const auto& pool = (*reusable)[resource];
      selection.must_include.assign(pool.begin(), pool.end());
      if (r->second.streaming) endpoint = r->second.endpoint;
      plugin_options = r->second.plugin_options;
    }
    int64_t pool_size = static_cast<int64_t>(selection.available.size() + selection.must_include.size());
    if (pool_size < needed) {
      return SelectDevices(selection).status();  // the kubelet's "requested number of devices unavailable" message
    }
    if (!endpoint) {
      return absl::UnavailableError(
          absl::StrCat("the device plugin of ", resource, " is not connected (it has not registered again yet)"));
    }
    if (plugin_options.get_preferred_allocation_available() && pool_size > needed) {
      v1beta1::PreferredAllocationRequest preq;
      auto* creq = preq.add_container_requests();
      for (const auto& id : selection.available) creq->add_available_deviceids(id);
      for (const auto& id : selection.must_include) creq->add_available_deviceids(id);
      for (const auto& id : selection.must_include) creq->add_must_include_deviceids(id);
      creq->set_allocation_size(static_cast<int32_t>(needed));
      auto preferred = endpoint->GetPreferredAllocation(preq);
      if (preferred.ok() && preferred->container_responses_size() == 1) {
        const auto& ids = preferred->container_responses(0).deviceids();
        selection.preferred.assign(ids.begin(), ids.end());
      } else {
        BERTH_LOG(Warning) << "devices: no preferred allocation; taking the first free devices"
                           << Kv("resource", resource)
                           << Kv("error", preferred.ok() ? "not one container response" : preferred.status().ToString());
      }
    }
    ASSIGN_OR_RETURN(std::vector<std::string> chosen, SelectDevices(selection));
    v1beta1::AllocateRequest areq;
    auto* acreq = areq.add_container_requests();
    for (const auto& id : chosen) acreq->add_devices_ids(id);
    ASSIGN_OR_RETURN(v1beta1::AllocateResponse aresp, endpoint->Allocate(areq));
    if (aresp.container_responses_size() != 1) {
      return absl::InternalError(absl::StrCat("the ", resource, " plugin's Allocate answered ",
                                              aresp.container_responses_size(),
                                              " container responses for 1 container"));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      allocations_[uid][container.name][resource] = {chosen, aresp.container_responses(0)};
      added->emplace_back(container.name, resource);
      auto& pool = (*reusable)[resource];
      for (const auto& id : chosen) init ? (void)pool.insert(id) : (void)pool.erase(id);
    }
    BERTH_LOG(Info) << "devices: allocated" << Kv("pod", PodName(pod)) << Kv("container", container.name)
                    << Kv("resource", resource) << Kv("devices", absl::StrJoin(chosen, ","));
  }
  return absl::OkStatus();
}

absl::Status DeviceManager::AddContainerDevices(const k8s::Pod& pod, const k8s::Container& container,
                                                cri::ContainerConfig* config) {
  std::vector<v1beta1::ContainerAllocateResponse> responses;
  struct PreStart {
    std::string resource;
    std::shared_ptr<PluginEndpoint> endpoint;
    std::vector<std::string> ids;
  };
  std::vector<PreStart> pre_starts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto held = allocations_.find(pod.metadata.uid);
    if (held == allocations_.end()) return absl::OkStatus();
    auto c = held->second.find(container.name);
    if (c == held->second.end()) return absl::OkStatus();
    for (const auto& [resource, allocation] : c->second) {
      responses.push_back(allocation.response);
      auto r = resources_.find(resource);
      if (r != resources_.end() && r->second.plugin_options.pre_start_required()) {
        pre_starts.push_back({resource, r->second.streaming ? r->second.endpoint : nullptr, allocation.device_ids});
      }
    }
  }
  MergeAllocateResponses(responses, config);
  for (const auto& p : pre_starts) {
    if (!p.endpoint) {
      return absl::UnavailableError(absl::StrCat("PreStartContainer: the device plugin of ", p.resource,
                                                 " is not connected"));
    }
    v1beta1::PreStartContainerRequest req;
    for (const auto& id : p.ids) req.add_devices_ids(id);
    RETURN_IF_ERROR(p.endpoint->PreStartContainer(req));
  }
  return absl::OkStatus();
}

void DeviceManager::RemovePod(const std::string& pod_uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (allocations_.erase(pod_uid) == 0) return;
  }
  BERTH_LOG(Info) << "devices: released the pod's devices" << Kv("uid", pod_uid);
  SaveCheckpoint();
}

std::map<std::string, ResourceView> DeviceManager::Resources() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, ResourceView> out;
  for (const auto& [name, r] : resources_) {
    ResourceView& v = out[name];
    for (const auto& [id, healthy] : r.devices) (healthy ? v.healthy : v.unhealthy).push_back(id);
    v.capacity = static_cast<int64_t>(r.devices.size());
    v.allocatable = static_cast<int64_t>(v.healthy.size());
    v.allocated = static_cast<int64_t>(InUseLocked(name).size());
    v.plugin_connected = r.streaming;
  }
  return out;
}

std::map<std::string, std::map<std::string, std::vector<std::string>>> DeviceManager::PodDevices(
    const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::map<std::string, std::vector<std::string>>> out;
  auto held = allocations_.find(pod_uid);
  if (held == allocations_.end()) return out;
  for (const auto& [container, resources] : held->second) {
    for (const auto& [resource, a] : resources) out[container][resource] = a.device_ids;
  }
  return out;
}

DeviceCheckpoint DeviceManager::CheckpointLocked() const {
  DeviceCheckpoint out;
  for (const auto& [uid, containers] : allocations_) {
    for (const auto& [container, resources] : containers) {
      for (const auto& [resource, a] : resources) {
        out.entries.push_back({uid, container, resource, a.device_ids, a.response});
      }
    }
  }
  for (const auto& [name, r] : resources_) {
    auto& ids = out.registered_devices[name];
    for (const auto& [id, healthy] : r.devices) ids.push_back(id);
  }
  return out;
}

void DeviceManager::SaveCheckpoint() {
  // Snapshot and write under one lock, so a later state is never overwritten by an earlier one.
  std::lock_guard<std::mutex> writing(checkpoint_mu_);
  DeviceCheckpoint checkpoint;
  {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint = CheckpointLocked();
  }
  absl::Status st = WriteCheckpoint(options_.plugins_dir + "/" + kCheckpointFile, checkpoint);
  if (!st.ok()) {
    BERTH_LOG(Error) << "devices: cannot write the checkpoint" << Kv("error", st.ToString());
  }
}

}  // namespace berth::agent::devices
