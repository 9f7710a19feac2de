#include "agent/node_cgroups.h"

#include "absl/strings/str_cat.h"
#include "runtime-shim/cgroups/cgroup_layout.h"

namespace berth::agent {

absl::StatusOr<std::optional<NodeCgroups>> ResolveNodeCgroups(const KubeletConfig& config,
                                                              CgroupOptions* runtime_cgroups,
                                                              const std::string& runtime_parent) {
  std::string& driver = runtime_cgroups->driver;
  if (driver.empty() || driver == "auto") {
    driver = config.cgroupDriverSet
                 ? config.cgroupDriver
                 : DetectCgroupDriver(runtime_cgroups->proc_root, runtime_cgroups->systemd_run_dir);
  } else if (config.cgroupDriverSet && config.cgroupDriver != driver) {
    return absl::InvalidArgumentError(absl::StrCat("cgroupDriver: \"", config.cgroupDriver,
                                                   "\" in the config file, but --cgroup-driver is \"", driver,
                                                   "\"; the kubelet and the runtime must use one driver"));
  }
  if (driver != "cgroupfs") return std::nullopt;
  NodeCgroups node;
  node.options = *runtime_cgroups;
  node.parent = runtime_parent;
  return node;
}

}  // namespace berth::agent
