// NVML, loaded at run time with dlopen so berth-gpu-plugin builds and runs
// on machines without the NVIDIA driver. Only the entry points the plugin
// uses are declared here, with the types of the published NVML C API.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::gpu {

namespace nvml {
using Return = int;  // nvmlReturn_t
constexpr Return kSuccess = 0;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorTimeout = 10;
constexpr Return kErrorGpuIsLost = 15;

struct DeviceSt;
using Device = DeviceSt*;  // nvmlDevice_t
struct EventSetSt;
using EventSet = EventSetSt*;  // nvmlEventSet_t

struct Memory {  // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct PciInfo {  // nvmlPciInfo_t
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_sub_system_id;
  char bus_id[32];
};

struct EventData {  // nvmlEventData_t
  Device device;
  unsigned long long event_type;
  unsigned long long event_data;  // the Xid for kXidCriticalError
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

constexpr unsigned long long kEventSingleBitEccError = 0x1;
constexpr unsigned long long kEventDoubleBitEccError = 0x2;
constexpr unsigned long long kEventXidCriticalError = 0x8;

constexpr int kTopologyHostBridge = 30;  // nvmlGpuTopologyLevel_t values: 0,10,20,30,40,50
constexpr unsigned int kNvlinkMaxLinks = 18;
constexpr unsigned int kUuidBufferSize = 96;
constexpr unsigned int kNameBufferSize = 96;
constexpr unsigned int kVersionBufferSize = 80;
}  // namespace nvml

// The loaded library and its entry points. Init() is called by Load;
// the destructor calls nvmlShutdown and dlclose.
class NvmlLibrary {
 public:
  // dlopen(`path`) (default "libnvidia-ml.so.1"), resolve the entry points,
  // nvmlInit_v2. NotFound when the library is missing; other errors name the
  // symbol or NVML's message.
  static absl::StatusOr<std::unique_ptr<NvmlLibrary>> Load(const std::string& path);
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // "<what>: <nvmlErrorString>" as a Status; OK for kSuccess.
  absl::Status Check(nvml::Return r, const std::string& what) const;

  nvml::Return (*init_v2)() = nullptr;
  nvml::Return (*shutdown)() = nullptr;
  const char* (*error_string)(nvml::Return) = nullptr;
  nvml::Return (*system_get_driver_version)(char*, unsigned int) = nullptr;
  nvml::Return (*device_get_count_v2)(unsigned int*) = nullptr;
  nvml::Return (*device_get_handle_by_index_v2)(unsigned int, nvml::Device*) = nullptr;
  nvml::Return (*device_get_uuid)(nvml::Device, char*, unsigned int) = nullptr;
  nvml::Return (*device_get_name)(nvml::Device, char*, unsigned int) = nullptr;
  nvml::Return (*device_get_minor_number)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_get_memory_info)(nvml::Device, nvml::Memory*) = nullptr;
  nvml::Return (*device_get_pci_info_v3)(nvml::Device, nvml::PciInfo*) = nullptr;
  nvml::Return (*device_get_topology_common_ancestor)(nvml::Device, nvml::Device, int*) = nullptr;
  nvml::Return (*device_get_nvlink_state)(nvml::Device, unsigned int, int*) = nullptr;
  nvml::Return (*device_get_nvlink_remote_pci_info_v2)(nvml::Device, unsigned int, nvml::PciInfo*) = nullptr;
  nvml::Return (*event_set_create)(nvml::EventSet*) = nullptr;
  nvml::Return (*device_register_events)(nvml::Device, unsigned long long, nvml::EventSet) = nullptr;
  nvml::Return (*event_set_wait_v2)(nvml::EventSet, nvml::EventData*, unsigned int) = nullptr;
  nvml::Return (*event_set_free)(nvml::EventSet) = nullptr;

 private:
  NvmlLibrary() = default;
  void* handle_ = nullptr;
  bool initialized_ = false;
};

}  // namespace berth::gpu
