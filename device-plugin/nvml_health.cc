#include "device-plugin/nvml_health.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace berth::gpu {

absl::StatusOr<std::unique_ptr<NvmlHealthMonitor>> NvmlHealthMonitor::Start(const NvmlLibrary* nvml,
                                                                            std::vector<nvml::Device> handles,
                                                                            DeviceState* state, XidPolicy policy,
                                                                            absl::Duration recovery_period) {
  std::unique_ptr<NvmlHealthMonitor> m(new NvmlHealthMonitor());
  m->nvml_ = nvml;
  m->handles_ = std::move(handles);
  m->state_ = state;
  m->policy_ = std::move(policy);
  m->recovery_period_ = recovery_period;
  m->last_critical_.assign(m->handles_.size(), absl::InfinitePast());
  if (auto s = nvml->Check(nvml->event_set_create(&m->set_), "nvmlEventSetCreate"); !s.ok()) return s;
  for (size_t i = 0; i < m->handles_.size(); ++i) {
    nvml::Return r = nvml->device_register_events(m->handles_[i], nvml::kEventXidCriticalError, m->set_);
    if (r != nvml::kSuccess) {
      // Older or virtual GPUs cannot report Xids: they stay healthy, as with NVIDIA's plugin.
      BERTH_LOG(Warning) << "no Xid events for GPU; its health is not watched" << Kv("index", static_cast<long long>(i))
                         << Kv("error", nvml->Check(r, "nvmlDeviceRegisterEvents").message());
    }
  }
  m->thread_ = std::thread([p = m.get()] { p->Loop(); });
  return m;
}

NvmlHealthMonitor::~NvmlHealthMonitor() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (set_ != nullptr) nvml_->event_set_free(set_);
}

void NvmlHealthMonitor::MarkCritical(size_t position, unsigned long long xid) {
  last_critical_[position] = absl::Now();
  state_->SetHealth(position, HealthSource::kNvml, false, absl::StrCat("critical Xid ", xid));
}

void NvmlHealthMonitor::Loop() {
  // The wait returns at least every second so stop_ and recoveries are seen.
  constexpr unsigned int kWaitMs = 1000;
  while (!stop_) {
    nvml::EventData data{};
    nvml::Return r = nvml_->event_set_wait_v2(set_, &data, kWaitMs);
    if (stop_) break;
    if (r == nvml::kSuccess && data.event_type == nvml::kEventXidCriticalError) {
      unsigned long long xid = data.event_data;
      if (!policy_.IsCritical(xid)) {
        BERTH_LOG(Info) << "Xid event is not critical; ignored" << Kv("xid", static_cast<long long>(xid));
      } else {
        bool found = false;
        for (size_t i = 0; i < handles_.size(); ++i) {
          if (data.device == nullptr || data.device == handles_[i]) {
            MarkCritical(i, xid);
            found = true;
          }
        }
        if (!found) {
          BERTH_LOG(Warning) << "critical Xid for an unknown device" << Kv("xid", static_cast<long long>(xid));
        }
      }
    } else if (r != nvml::kSuccess && r != nvml::kErrorTimeout) {
      BERTH_LOG(Warning) << "nvmlEventSetWait_v2" << Kv("error", nvml_->Check(r, "wait").message());
    }
    absl::Time now = absl::Now();
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (last_critical_[i] == absl::InfinitePast() || now - last_critical_[i] < recovery_period_) continue;
      nvml::Memory memory{};
      if (nvml_->device_get_memory_info(handles_[i], &memory) == nvml::kSuccess) {
        last_critical_[i] = absl::InfinitePast();
        state_->SetHealth(i, HealthSource::kNvml, true,
                          absl::StrCat("no critical Xid for ", absl::FormatDuration(recovery_period_),
                                       " and NVML answers"));
      } else {
        last_critical_[i] = now;  // still gone: look again after another period
      }
    }
  }
}

}  // namespace berth::gpu
