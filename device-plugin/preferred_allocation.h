// GetPreferredAllocation's choice. Whole GPUs: the set (with must_include)
// that has the most NVLinks among its members, then the closest PCI paths
// (same switch / root port), then the lowest indexes, so allocations stay
// packed and large NVLink islands stay free. Time-sliced replicas: spread
// over the least used GPUs, one replica per GPU where possible.
#pragma once

#include <string>
#include <vector>

#include "device-plugin/gpu.h"

namespace berth::gpu {

// `available` and `must_include` are device ids (UUIDs or replica ids);
// the answer has must_include first, then the chosen ones, `size` in all
// (fewer when `available` has fewer). Ids naming no GPU are used last.
std::vector<std::string> PreferredAllocation(const std::vector<Gpu>& gpus, const GpuTopology& topology,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& must_include, int size);

}  // namespace berth::gpu
