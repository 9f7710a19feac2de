// berth-gpu-plugin's command line.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "device-plugin/xid_policy.h"

namespace berth::gpu {

struct PluginFlags {
  std::string root = "/";  // where /proc/driver/nvidia, /dev and the driver files are looked up
  std::string device_plugin_path = "/var/lib/kubelet/device-plugins";
  std::string socket_name = "berth-gpu.sock";
  std::string resource_name = "nvidia.com/gpu";
  std::string cdi_spec = "/var/run/cdi/berth-nvidia.json";  // empty: none written
  std::string config;                                        // time-slicing config; empty: none
  std::string health_dir = "/run/berth-gpu-plugin/health";
  std::string critical_xids = "all";
  std::string ignored_xids = kDefaultIgnoredXids;
  absl::Duration xid_recovery_period = absl::Minutes(5);
  std::string nvml = "auto";  // auto | on | off
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string log_level = "info";
  bool help = false;
};

// `--name value` and `--name=value`; unknown flags, missing values and bad
// values are errors naming the flag and the value.
absl::StatusOr<PluginFlags> ParsePluginFlags(int argc, char** argv);

extern const char kPluginUsage[];

}  // namespace berth::gpu
