// GPU discovery without NVML: /proc/driver/nvidia/gpus/<pci-bus-id>/information
// (one directory per GPU the driver bound) and /dev/nvidia<minor>, both under
// a root so tests can run over a fake tree.
#pragma once

#include <map>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "device-plugin/gpu.h"

namespace berth::gpu {

// The "Key: value" lines of one information file ("Model", "IRQ", "GPU UUID",
// "Video BIOS", "Bus Type", "Device Minor", "Bus Location", ...).
struct GpuInformation {
  std::map<std::string, std::string> fields;
  std::string model;
  std::string uuid;
  int minor = -1;
  std::string bus_location;  // "Bus Location", when the driver writes it
};

// Parses one information file; `source` names it in errors. "GPU UUID" and
// "Device Minor" (a number 0..254) are required.
absl::StatusOr<GpuInformation> ParseGpuInformation(absl::string_view text,
                                                   absl::string_view source);

// Every GPU under <root>/proc/driver/nvidia/gpus, indexed in PCI bus order
// (as NVML numbers them), with device_path <root>/dev/nvidia<minor>.
// No gpus dir means no GPUs (an empty inventory), not an error; an unreadable
// or malformed information file is an error naming it.
absl::StatusOr<Inventory> DiscoverFromProcTree(const std::string& root);

}  // namespace berth::gpu
