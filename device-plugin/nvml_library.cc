#include "device-plugin/nvml_library.h"

#include <dlfcn.h>

#include <type_traits>

#include "absl/strings/str_cat.h"

namespace berth::gpu {

absl::StatusOr<std::unique_ptr<NvmlLibrary>> NvmlLibrary::Load(const std::string& path) {
  std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary());
  lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle_ == nullptr) {
    const char* err = dlerror();
    return absl::NotFoundError(absl::StrCat("dlopen ", path, ": ", err ? err : "unknown error"));
  }
  auto resolve = [&](auto& fn, const char* name) -> absl::Status {
    void* sym = dlsym(lib->handle_, name);
    if (sym == nullptr) return absl::NotFoundError(absl::StrCat(path, ": no symbol ", name));
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
    return absl::OkStatus();
  };
  // Required entry points.
  for (auto st : {resolve(lib->init_v2, "nvmlInit_v2"), resolve(lib->shutdown, "nvmlShutdown"),
                  resolve(lib->error_string, "nvmlErrorString"),
                  resolve(lib->device_get_count_v2, "nvmlDeviceGetCount_v2"),
                  resolve(lib->device_get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2"),
                  resolve(lib->device_get_uuid, "nvmlDeviceGetUUID"),
                  resolve(lib->device_get_minor_number, "nvmlDeviceGetMinorNumber"),
                  resolve(lib->device_get_memory_info, "nvmlDeviceGetMemoryInfo"),
                  resolve(lib->device_get_pci_info_v3, "nvmlDeviceGetPciInfo_v3"),
                  resolve(lib->event_set_create, "nvmlEventSetCreate"),
                  resolve(lib->device_register_events, "nvmlDeviceRegisterEvents"),
                  resolve(lib->event_set_wait_v2, "nvmlEventSetWait_v2"),
                  resolve(lib->event_set_free, "nvmlEventSetFree")}) {
    if (!st.ok()) return st;
  }
  // Optional ones: topology and names degrade to "unknown" when missing.
  (void)resolve(lib->system_get_driver_version, "nvmlSystemGetDriverVersion");
  (void)resolve(lib->device_get_name, "nvmlDeviceGetName");
  (void)resolve(lib->device_get_topology_common_ancestor, "nvmlDeviceGetTopologyCommonAncestor");
  (void)resolve(lib->device_get_nvlink_state, "nvmlDeviceGetNvLinkState");
  (void)resolve(lib->device_get_nvlink_remote_pci_info_v2, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
  if (auto st = lib->Check(lib->init_v2(), "nvmlInit_v2"); !st.ok()) return st;
  lib->initialized_ = true;
  return lib;
}

NvmlLibrary::~NvmlLibrary() {
  if (initialized_) shutdown();
  if (handle_ != nullptr) dlclose(handle_);
}

absl::Status NvmlLibrary::Check(nvml::Return r, const std::string& what) const {
  if (r == nvml::kSuccess) return absl::OkStatus();
  const char* msg = error_string ? error_string(r) : nullptr;
  std::string text = absl::StrCat(what, ": ", msg ? msg : "NVML error ", msg ? "" : std::to_string(r));
  if (r == nvml::kErrorNotSupported) return absl::UnimplementedError(text);
  if (r == nvml::kErrorGpuIsLost) return absl::UnavailableError(text);
  return absl::InternalError(text);
}

}  // namespace berth::gpu
