// CDI injection for CreateContainer: which devices a container asks for (the
// CRI CDI_devices field and the cdi.k8s.io/<key> annotations), their edits
// made concrete (device nodes' type, major, minor and mode from the host node
// when the spec leaves them out), the device cgroup rules they need, and the
// edits applied to the ContainerSpec the shim runs.
//
// Hooks: berth's ContainerSpec has no OCI hooks, so hooks are returned for the
// caller to report and are not run.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/cri/api.pb.h"
#include "runtime-shim/cdi/cdi_spec.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::cdi {

inline constexpr char kAnnotationPrefix[] = "cdi.k8s.io/";

// Fully qualified names from config.CDI_devices, then from each
// "cdi.k8s.io/<key>" annotation (comma-separated, in key order); repeats dropped.
std::vector<std::string> RequestedDevices(const ::runtime::v1::ContainerConfig& config);

struct ResolvedEdits {
  std::vector<std::string> device_names;  // what was asked for
  std::vector<std::string> env;           // "KEY=value"
  std::vector<DeviceSpec> devices;        // type, major, minor resolved
  std::vector<MountSpec> mounts;
  std::vector<Hook> hooks;                // not run (see above)
  std::vector<uint32_t> additional_gids;
};

// Reads the spec dirs only when the container asks for a CDI device. An
// unknown device, or a device node whose host node is missing and whose
// major/minor the spec does not give, is an error naming it.
absl::StatusOr<ResolvedEdits> ResolveForContainer(const ::runtime::v1::ContainerConfig& config,
                                                  const std::vector<std::string>& spec_dirs);

// The edits made concrete (exported for tests).
absl::StatusOr<ResolvedEdits> MakeConcrete(const ContainerEdits& edits);

// "c 195:0 rwm" for each device node (for the device cgroup).
std::vector<std::string> DeviceCgroupRules(const ResolvedEdits& edits);

// Env (a KEY already set is replaced), device nodes and mounts (one at the
// same container path is replaced), additional GIDs.
void ApplyEdits(const ResolvedEdits& edits, ContainerSpec* spec);

}  // namespace berth::cdi
