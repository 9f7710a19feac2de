// NvmlHealthMonitor: NVML Xid events to GPU health. One thread blocks in
// nvmlEventSetWait_v2; a critical Xid (XidPolicy) marks its GPU unhealthy
// (an event without a device marks all of them). A GPU comes back on its
// own: once `recovery_period` has passed without another critical Xid and
// NVML answers for it again (nvmlDeviceGetMemoryInfo), it is healthy.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "device-plugin/device_state.h"
#include "device-plugin/nvml_library.h"
#include "device-plugin/xid_policy.h"

namespace berth::gpu {

class NvmlHealthMonitor {
 public:
  static absl::StatusOr<std::unique_ptr<NvmlHealthMonitor>> Start(const NvmlLibrary* nvml,
                                                                  std::vector<nvml::Device> handles,
                                                                  DeviceState* state, XidPolicy policy,
                                                                  absl::Duration recovery_period);
  ~NvmlHealthMonitor();

 private:
  NvmlHealthMonitor() = default;
  void Loop();
  void MarkCritical(size_t position, unsigned long long xid);

  const NvmlLibrary* nvml_ = nullptr;
  std::vector<nvml::Device> handles_;
  DeviceState* state_ = nullptr;
  XidPolicy policy_;
  absl::Duration recovery_period_;
  nvml::EventSet set_ = nullptr;
  std::vector<absl::Time> last_critical_;  // InfinitePast when healthy
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::gpu
