// What berth-gpu-plugin knows about the GPUs of the node, however it found
// them (NVML or the /proc/driver/nvidia tree).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::gpu {

struct Gpu {
  int index = 0;              // NVML index (PCI bus order)
  std::string uuid;           // "GPU-..."
  int minor = -1;             // /dev/nvidia<minor>
  std::string model;          // "Tesla V100-SXM2-16GB"
  std::string pci_bus_id;     // "0000:00:1e.0", lower case
  uint64_t memory_bytes = 0;  // 0 when unknown (proc tree)
  int numa_node = -1;         // from sysfs; -1 when unknown
  std::string device_path;    // host path of /dev/nvidia<minor> (under --root)
};

// Pairwise facts between GPUs, by position in the GPU list.
struct GpuTopology {
  // nvlinks[i][j]: active NVLinks between GPU i and GPU j; empty when unknown.
  std::vector<std::vector<int>> nvlinks;
  // pci_closeness[i][j]: larger when GPUs i and j share more of their PCI
  // path (same switch > same root port > same root complex); empty when unknown.
  std::vector<std::vector<int>> pci_closeness;

  bool HasNvlinks() const;
};

// Everything discovery produced.
struct Inventory {
  std::vector<Gpu> gpus;
  GpuTopology topology;
  std::string source;   // "nvml" or "proc"
  std::string driver_version;  // when known
};

// "0000:00:1E.0" / "00000000:00:1e.0" -> "0000:00:1e.0".
std::string NormalizePciBusId(const std::string& bus_id);

}  // namespace berth::gpu
