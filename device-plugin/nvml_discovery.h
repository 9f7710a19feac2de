// GPU discovery through NVML: UUID, index, minor number, name, memory, PCI
// bus id, and the pairwise topology (active NVLinks between each pair, PCI
// common ancestor).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "device-plugin/gpu.h"
#include "device-plugin/nvml_library.h"

namespace berth::gpu {

struct NvmlInventory {
  Inventory inventory;
  std::vector<nvml::Device> handles;  // by GPU position, for event registration
};

// Device nodes are looked up under `root` (normally "/").
absl::StatusOr<NvmlInventory> DiscoverWithNvml(const NvmlLibrary& nvml, const std::string& root);

}  // namespace berth::gpu
