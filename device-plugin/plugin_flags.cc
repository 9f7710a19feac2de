#include "device-plugin/plugin_flags.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "common/status_macros.h"

namespace berth::gpu {

const char kPluginUsage[] = R"(berth-gpu-plugin: NVIDIA GPU device plugin (device plugin API v1beta1)

  --root DIR                 root of the /proc/driver/nvidia, /dev and driver trees (default /)
  --device-plugin-path DIR   kubelet.sock's dir (default /var/lib/kubelet/device-plugins)
  --socket-name NAME         this plugin's socket in that dir (default berth-gpu.sock)
  --resource-name NAME       extended resource (default nvidia.com/gpu)
  --cdi-spec FILE            CDI spec written at start (default /var/run/cdi/berth-nvidia.json; "" for none)
  --config FILE              time-slicing config (YAML), re-read when it changes
  --health-dir DIR           health files by GPU UUID or index (default /run/berth-gpu-plugin/health)
  --critical-xids LIST       all, none or Xid numbers that mark a GPU unhealthy (default all)
  --ignored-xids LIST        Xids never critical (default 13,31,43,45,68,109)
  --xid-recovery-period DUR  healthy again after this long without a critical Xid (default 5m)
  --nvml auto|on|off         use NVML (auto: when loadable and --root is /)
  --nvml-library PATH        default libnvidia-ml.so.1
  --log-level LEVEL          debug, info, warning, error
)";

absl::StatusOr<PluginFlags> ParsePluginFlags(int argc, char** argv) {
  PluginFlags f;
  std::string recovery;
  std::map<std::string, std::string*> strings = {
      {"root", &f.root},
      {"device-plugin-path", &f.device_plugin_path},
      {"socket-name", &f.socket_name},
      {"resource-name", &f.resource_name},
      {"cdi-spec", &f.cdi_spec},
      {"config", &f.config},
      {"health-dir", &f.health_dir},
      {"critical-xids", &f.critical_xids},
      {"ignored-xids", &f.ignored_xids},
      {"xid-recovery-period", &recovery},
      {"nvml", &f.nvml},
      {"nvml-library", &f.nvml_library},
      {"log-level", &f.log_level},
  };
  // -h is kept for people; everything else goes through the shared parser.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-h") {
      f.help = true;
    } else {
      args.emplace_back(argv[i]);
    }
  }
  RETURN_IF_ERROR(ParseFlags(args, FlagSet{.values = strings, .switches = {{"help", &f.help}}}));
  if (!recovery.empty() &&
      (!absl::ParseDuration(recovery, &f.xid_recovery_period) || f.xid_recovery_period <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--xid-recovery-period: \"", recovery, "\" is not a positive duration such as 30s or 5m"));
  }
  if (f.nvml != "auto" && f.nvml != "on" && f.nvml != "off") {
    return absl::InvalidArgumentError(absl::StrCat("--nvml: \"", f.nvml, "\": want auto, on or off"));
  }
  if (f.root.empty() || f.root[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("--root: \"", f.root, "\" is not an absolute path"));
  }
  if (f.device_plugin_path.empty() || f.device_plugin_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--device-plugin-path: \"", f.device_plugin_path, "\" is not an absolute path"));
  }
  if (f.socket_name.empty() || f.socket_name.find('/') != std::string::npos || f.socket_name == "kubelet.sock") {
    return absl::InvalidArgumentError(
        absl::StrCat("--socket-name: \"", f.socket_name, "\" must be a file name other than kubelet.sock"));
  }
  // An extended resource name: <domain>/<name>, outside kubernetes.io.
  size_t slash = f.resource_name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == f.resource_name.size() ||
      f.resource_name.find('/', slash + 1) != std::string::npos ||
      absl::EndsWith(f.resource_name.substr(0, slash), "kubernetes.io")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--resource-name: \"", f.resource_name, "\" is not an extended resource name such as nvidia.com/gpu"));
  }
  if (f.log_level != "debug" && f.log_level != "info" && f.log_level != "warning" && f.log_level != "error") {
    return absl::InvalidArgumentError(absl::StrCat("--log-level: \"", f.log_level, "\": want debug, info, warning or error"));
  }
  auto policy = XidPolicy::Parse(f.critical_xids, f.ignored_xids);
  if (!policy.ok()) return policy.status();
  return f;
}

}  // namespace berth::gpu
