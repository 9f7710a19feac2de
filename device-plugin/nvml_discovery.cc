#include "device-plugin/nvml_discovery.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "device-plugin/sysfs_pci.h"

namespace berth::gpu {

absl::StatusOr<NvmlInventory> DiscoverWithNvml(const NvmlLibrary& nvml, const std::string& root) {
  NvmlInventory out;
  Inventory& inv = out.inventory;
  inv.source = "nvml";
  if (nvml.system_get_driver_version != nullptr) {
    char version[nvml::kVersionBufferSize] = {};
    if (nvml.system_get_driver_version(version, sizeof version) == nvml::kSuccess) inv.driver_version = version;
  }
  unsigned int count = 0;
  RETURN_IF_ERROR(nvml.Check(nvml.device_get_count_v2(&count), "nvmlDeviceGetCount_v2"));
  for (unsigned int i = 0; i < count; ++i) {
    nvml::Device dev = nullptr;
    std::string what = absl::StrCat("GPU ", i);
    RETURN_IF_ERROR(nvml.Check(nvml.device_get_handle_by_index_v2(i, &dev), what + ": nvmlDeviceGetHandleByIndex_v2"));
    Gpu gpu;
    gpu.index = static_cast<int>(i);
    char uuid[nvml::kUuidBufferSize] = {};
    RETURN_IF_ERROR(nvml.Check(nvml.device_get_uuid(dev, uuid, sizeof uuid), what + ": nvmlDeviceGetUUID"));
    gpu.uuid = uuid;
    unsigned int minor = 0;
    RETURN_IF_ERROR(nvml.Check(nvml.device_get_minor_number(dev, &minor), what + ": nvmlDeviceGetMinorNumber"));
    gpu.minor = static_cast<int>(minor);
    nvml::Memory memory{};
    if (nvml.device_get_memory_info(dev, &memory) == nvml::kSuccess) gpu.memory_bytes = memory.total;
    nvml::PciInfo pci{};
    RETURN_IF_ERROR(nvml.Check(nvml.device_get_pci_info_v3(dev, &pci), what + ": nvmlDeviceGetPciInfo_v3"));
    gpu.pci_bus_id = NormalizePciBusId(pci.bus_id);
    if (nvml.device_get_name != nullptr) {
      char name[nvml::kNameBufferSize] = {};
      if (nvml.device_get_name(dev, name, sizeof name) == nvml::kSuccess) gpu.model = name;
    }
    gpu.device_path = JoinUnderRoot(root, absl::StrCat("/dev/nvidia", gpu.minor));
    inv.gpus.push_back(std::move(gpu));
    out.handles.push_back(dev);
  }
  FillFromSysfs(root, &inv);

  size_t n = inv.gpus.size();
  std::map<std::string, size_t> by_bus;
  for (size_t i = 0; i < n; ++i) by_bus[inv.gpus[i].pci_bus_id] = i;
  // NVLinks: each active link of GPU i whose remote end is GPU j counts once.
  if (nvml.device_get_nvlink_state != nullptr && nvml.device_get_nvlink_remote_pci_info_v2 != nullptr) {
    std::vector<std::vector<int>> links(n, std::vector<int>(n, 0));
    for (size_t i = 0; i < n; ++i) {
      for (unsigned int link = 0; link < nvml::kNvlinkMaxLinks; ++link) {
        int active = 0;
        if (nvml.device_get_nvlink_state(out.handles[i], link, &active) != nvml::kSuccess || !active) continue;
        nvml::PciInfo remote{};
        if (nvml.device_get_nvlink_remote_pci_info_v2(out.handles[i], link, &remote) != nvml::kSuccess) continue;
        auto it = by_bus.find(NormalizePciBusId(remote.bus_id));
        if (it != by_bus.end() && it->second != i) ++links[i][it->second];
      }
    }
    inv.topology.nvlinks = std::move(links);
  }
  // PCI closeness from NVML's common ancestor when sysfs told nothing:
  // 0 internal .. 50 system; closer is larger.
  if (inv.topology.pci_closeness.empty() && nvml.device_get_topology_common_ancestor != nullptr) {
    std::vector<std::vector<int>> closeness(n, std::vector<int>(n, 0));
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        int level = 0;
        if (i != j && nvml.device_get_topology_common_ancestor(out.handles[i], out.handles[j], &level) ==
                          nvml::kSuccess) {
          closeness[i][j] = (60 - level) / 10;
        }
      }
    }
    inv.topology.pci_closeness = std::move(closeness);
  }
  return out;
}

}  // namespace berth::gpu
