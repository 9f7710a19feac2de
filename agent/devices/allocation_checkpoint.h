// The device manager's checkpoint, `<device-plugins dir>/kubelet_internal_checkpoint`
// as in the kubelet: every (pod, container, resource) allocation with the
// plugin's Allocate answer, and the devices each resource had. JSON, written
// atomically (temp file, fsync, rename) with a checksum over "Data":
//
//   {"Data": {"PodDeviceEntries": [{"PodUID": "...", "ContainerName": "...",
//             "ResourceName": "...", "DeviceIDs": {"-1": ["dev0"]},
//             "AllocResp": "<base64 of the ContainerAllocateResponse>"}],
//             "RegisteredDevices": {"example.com/widget": ["dev0", "dev1"]}},
//    "Checksum": 123456789}
//
// ("-1" is the NUMA node key the kubelet uses when topology is not tracked.)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/deviceplugin/api.pb.h"

namespace berth::agent::devices {

inline constexpr char kCheckpointFile[] = "kubelet_internal_checkpoint";

struct PodDevicesEntry {
  std::string pod_uid;
  std::string container_name;
  std::string resource_name;
  std::vector<std::string> device_ids;
  v1beta1::ContainerAllocateResponse response;
};

struct DeviceCheckpoint {
  std::vector<PodDevicesEntry> entries;
  std::map<std::string, std::vector<std::string>> registered_devices;
};

std::string EncodeCheckpoint(const DeviceCheckpoint& checkpoint);
// A bad checksum, bad JSON or a bad field is DataLoss / InvalidArgument naming it.
absl::StatusOr<DeviceCheckpoint> DecodeCheckpoint(const std::string& text);

absl::Status WriteCheckpoint(const std::string& path, const DeviceCheckpoint& checkpoint);
// A missing file is an empty checkpoint.
absl::StatusOr<DeviceCheckpoint> ReadCheckpoint(const std::string& path);

}  // namespace berth::agent::devices
