// GpuPlugin: berth-gpu-plugin's whole life. Create() finds the GPUs (NVML,
// else the /proc/driver/nvidia tree), loads the time-slicing config, writes
// the CDI spec and applies the health files; Run() serves DevicePlugin on
// <device-plugins dir>/<socket-name>, registers with kubelet.sock and then
// reacts to events in one thread blocked in poll():
//   - inotify on the device-plugins dir: kubelet.sock created again (an agent
//     restart) -> register again; our socket removed -> serve again, register;
//   - inotify on the config file's dir: reload; a bad config is logged and the
//     old one kept;
//   - inotify on the health dir: re-apply the health files;
//   - a timerfd: retry a failed registration (1s, 2s, ... up to 30s);
//   - a signalfd: SIGTERM/SIGINT end Run() (the caller blocks them first).
// NVML Xid events are watched by NvmlHealthMonitor's own thread.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "device-plugin/device_plugin_service.h"
#include "device-plugin/device_state.h"
#include "device-plugin/nvml_health.h"
#include "device-plugin/nvml_library.h"
#include "device-plugin/plugin_flags.h"
#include "device-plugin/xid_policy.h"

namespace berth::gpu {

class GpuPlugin {
 public:
  static absl::StatusOr<std::unique_ptr<GpuPlugin>> Create(const PluginFlags& flags);
  ~GpuPlugin();

  // Serves until SIGTERM or SIGINT (which must be blocked in every thread).
  absl::Status Run();

 private:
  explicit GpuPlugin(PluginFlags flags, XidPolicy policy);
  absl::Status LoadConfig();  // reads, parses and applies flags_.config
  absl::Status StartServer();
  void StopServer();
  void Register();
  void HandleInotify();

  std::string SocketPath() const { return flags_.device_plugin_path + "/" + flags_.socket_name; }
  std::string KubeletSocketPath() const;

  const PluginFlags flags_;
  const XidPolicy policy_;
  std::unique_ptr<NvmlLibrary> nvml_;
  std::unique_ptr<DeviceState> state_;
  std::unique_ptr<NvmlHealthMonitor> nvml_health_;
  std::unique_ptr<GpuDevicePluginService> service_;
  std::unique_ptr<grpc::Server> server_;

  int inotify_fd_ = -1;
  int timer_fd_ = -1;
  int plugins_wd_ = -1;
  int config_wd_ = -1;
  int health_wd_ = -1;
  std::string config_dir_;
  std::string config_base_;
  absl::Duration retry_delay_ = absl::Seconds(1);
};

}  // namespace berth::gpu
