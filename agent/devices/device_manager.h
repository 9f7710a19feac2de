// DeviceManager: the kubelet's device manager for berth-agent. It serves the
// device plugin Registration service on <plugins_dir>/kubelet.sock, connects
// back to each registered plugin (PluginEndpoint: GetDevicePluginOptions,
// ListAndWatch on its own thread), keeps each extended resource's devices
// and their health, allocates devices to pods at admission
// (GetPreferredAllocation, Allocate), adds them to each container's CRI
// config at creation (PreStartContainer when the plugin asks for it), and
// checkpoints every allocation so a restarted agent keeps them.
//
// A plugin whose stream ends keeps its devices, unhealthy, for the grace
// period (the kubelet's 5 minutes); then the resource is gone unless the
// plugin registered again. Unhealthy devices are never given to new pods;
// pods holding them keep them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/devices/allocation_checkpoint.h"
#include "agent/devices/plugin_endpoint.h"
#include "agent/devices/registration_server.h"
#include "agent/pod/pod_devices.h"
#include "agent/runtime/runtime_service.h"
#include "api/deviceplugin/api.pb.h"
#include "api/k8s/pod.h"

namespace berth::agent::devices {

inline constexpr char kKubeletSocket[] = "kubelet.sock";
inline constexpr char kDevicePluginVersion[] = "v1beta1";

struct DeviceManagerOptions {
  std::string plugins_dir = "/var/lib/kubelet/device-plugins";
  // How long a plugin that went away keeps its (unhealthy) devices listed.
  absl::Duration grace_period = absl::Minutes(5);
  // Deadline of each call to a plugin (options, preferred allocation, Allocate, PreStart).
  absl::Duration rpc_timeout = absl::Seconds(10);
};

// One extended resource as the node reports it.
struct ResourceView {
  int64_t capacity = 0;     // every device listed (healthy or not), as the kubelet counts
  int64_t allocatable = 0;  // healthy devices
  int64_t allocated = 0;    // devices held by pods
  bool plugin_connected = false;  // a live plugin serves it (ListAndWatch running)
  std::vector<std::string> healthy;
  std::vector<std::string> unhealthy;
};

class DeviceManager : public PodDevices {
 public:
  explicit DeviceManager(DeviceManagerOptions options);
  ~DeviceManager() override;

  // Reads the checkpoint (allocations and the devices last seen), then
  // serves kubelet.sock (replacing a stale one, which tells running plugins
  // to register again).
  absl::Status Start();
  void Stop();

  // The Registration service's handler: version v1beta1, an extended
  // resource name, an endpoint that is a socket file name in the plugins dir,
  // and no live plugin already serving the resource. Connecting back happens
  // on the endpoint's thread.
  absl::Status Register(const v1beta1::RegisterRequest& request);

  // Admission: distinct devices for every container of `pod` that asks for a
  // plugin's resource in resources.limits (init containers' devices may be
  // taken over by the app containers, as in the kubelet). Containers that
  // already hold devices (a restarted agent) keep them. On failure nothing
  // stays allocated and the error message is the kubelet's ("Allocate failed
  // due to ..., which is unexpected").
  absl::Status AllocatePod(const k8s::Pod& pod) override;

  // Container creation: merges the container's Allocate answers into
  // `config` and calls PreStartContainer where the plugin asked for it.
  absl::Status AddContainerDevices(const k8s::Pod& pod, const k8s::Container& container,
                                   cri::ContainerConfig* config) override;

  // The pod is gone: its devices are free again.
  void RemovePod(const std::string& pod_uid) override;

  std::map<std::string, ResourceView> Resources();
  // container name -> resource -> device ids of one pod.
  std::map<std::string, std::map<std::string, std::vector<std::string>>> PodDevices(const std::string& pod_uid);

  const DeviceManagerOptions& options() const { return options_; }

 private:
  struct Resource {
    std::shared_ptr<PluginEndpoint> endpoint;  // null: restored from the checkpoint, no plugin yet
    v1beta1::DevicePluginOptions plugin_options;
    bool streaming = false;                    // ListAndWatch delivered and not ended
    std::map<std::string, bool> devices;       // id -> healthy
    std::optional<absl::Time> stopped_at;      // plugin gone (or not back yet after a restart)
  };
  struct Allocation {
    std::vector<std::string> device_ids;
    v1beta1::ContainerAllocateResponse response;
  };
  // pod uid -> container -> resource -> allocation
  using PodAllocations = std::map<std::string, std::map<std::string, std::map<std::string, Allocation>>>;

  absl::Status AllocateContainer(const k8s::Pod& pod, const k8s::Container& container, bool init,
                                 std::map<std::string, std::set<std::string>>* reusable,
                                 std::vector<std::pair<std::string, std::string>>* added);
  void OnDevices(PluginEndpoint* endpoint, const std::vector<v1beta1::Device>& devices);
  void OnEnded(PluginEndpoint* endpoint, const absl::Status& status);
  void GraceLoop();
  DeviceCheckpoint CheckpointLocked() const;
  void SaveCheckpoint();
  std::set<std::string> InUseLocked(const std::string& resource) const;

  const DeviceManagerOptions options_;
  std::unique_ptr<RegistrationServer> server_;

  std::mutex mu_;
  std::condition_variable cv_;  // wakes the grace loop
  std::map<std::string, Resource> resources_;
  PodAllocations allocations_;
  std::vector<std::shared_ptr<PluginEndpoint>> retired_;  // stopped by the grace loop, off the callback threads
  bool stopping_ = false;

  std::mutex allocate_mu_;    // one admission at a time
  std::mutex checkpoint_mu_;  // one checkpoint write at a time
  std::thread grace_thread_;
};

}  // namespace berth::agent::devices
