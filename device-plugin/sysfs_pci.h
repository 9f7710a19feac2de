// PCI facts from <root>/sys/bus/pci/devices/<bus-id>: the NUMA node and the
// path through the PCI hierarchy, for packing GPUs that share a root port or
// switch. Missing sysfs entries leave the fields unknown.
#pragma once

#include <string>
#include <vector>

#include "device-plugin/gpu.h"

namespace berth::gpu {

// The device's path below /sys/devices, one element per hop
// ("pci0000:00", "0000:00:01.0", "0000:01:00.0"); empty when unknown.
std::vector<std::string> PciPath(const std::string& root, const std::string& bus_id);

// Sets numa_node for each GPU and topology.pci_closeness (the number of
// leading path elements two GPUs share, 0 when a path is unknown).
void FillFromSysfs(const std::string& root, Inventory* inventory);

}  // namespace berth::gpu
