// What a container's devices add to its CRI ContainerConfig: the envs,
// mounts, device specs, annotations and CDI devices of each plugin's
// ContainerAllocateResponse, merged the way the kubelet merges them.
#pragma once

#include <string>
#include <vector>

#include "agent/runtime/runtime_service.h"
#include "api/deviceplugin/api.pb.h"

namespace berth::agent::devices {

// Merges `responses` (one per resource, in resource-name order) into `config`.
// Within the responses the first setting of an env name, mount or device
// container path, annotation key or CDI name wins (a conflict is logged).
// Device envs go before the container's own, so a container's env of the
// same name overrides them, as in the kubelet; mounts, devices and CDI
// devices are appended; annotations are added.
void MergeAllocateResponses(const std::vector<v1beta1::ContainerAllocateResponse>& responses,
                            cri::ContainerConfig* config);

}  // namespace berth::agent::devices
