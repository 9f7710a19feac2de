#include "device-plugin/device_state.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "device-plugin/device_ids.h"

namespace berth::gpu {

DeviceState::DeviceState(Inventory inventory)
    : inventory_(std::move(inventory)),
      unhealthy_reason_(inventory_.gpus.size()),
      replicas_(inventory_.gpus.size(), 1) {}

bool DeviceState::SetSharing(const SharingConfig& config, const std::vector<int>& replicas) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = replicas != replicas_;
    replicas_ = replicas;
    replicas_.resize(inventory_.gpus.size(), 1);
    fail_requests_greater_than_one_ = config.fail_requests_greater_than_one;
    if (changed) ++generation_;
  }
  if (changed) Notify();
  return changed;
}

bool DeviceState::SetHealth(size_t position, HealthSource source, bool healthy, const std::string& reason) {
  if (position >= inventory_.gpus.size()) return false;
  bool was, now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& reasons = unhealthy_reason_[position];
    was = reasons[0].empty() && reasons[1].empty();
    reasons[static_cast<int>(source)] = healthy ? "" : (reason.empty() ? "unhealthy" : reason);
    now = reasons[0].empty() && reasons[1].empty();
    if (was != now) ++generation_;
  }
  if (was != now) {
    const Gpu& gpu = inventory_.gpus[position];
    if (now) {
      BERTH_LOG(Info) << "GPU healthy again" << Kv("index", gpu.index) << Kv("uuid", gpu.uuid)
                      << Kv("reason", reason);
    } else {
      BERTH_LOG(Warning) << "GPU unhealthy" << Kv("index", gpu.index) << Kv("uuid", gpu.uuid)
                         << Kv("reason", reason);
    }
    Notify();
  }
  return was != now;
}

bool DeviceState::Healthy(size_t position) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (position >= unhealthy_reason_.size()) return false;
  return unhealthy_reason_[position][0].empty() && unhealthy_reason_[position][1].empty();
}

DeviceList DeviceState::Devices() const {
  std::lock_guard<std::mutex> lock(mu_);
  DeviceList list;
  list.generation = generation_;
  for (size_t i = 0; i < inventory_.gpus.size(); ++i) {
    const Gpu& gpu = inventory_.gpus[i];
    bool healthy = unhealthy_reason_[i][0].empty() && unhealthy_reason_[i][1].empty();
    if (replicas_[i] <= 1) {
      list.devices.push_back({gpu.uuid, healthy, gpu.numa_node});
    } else {
      for (int r = 0; r < replicas_[i]; ++r) list.devices.push_back({ReplicaId(gpu.uuid, r), healthy, gpu.numa_node});
    }
  }
  return list;
}

int DeviceState::FindGpu(const std::string& uuid_or_index) const {
  int index = -1;
  bool is_index = absl::SimpleAtoi(uuid_or_index, &index);
  for (size_t i = 0; i < inventory_.gpus.size(); ++i) {
    if (inventory_.gpus[i].uuid == uuid_or_index || (is_index && inventory_.gpus[i].index == index)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

absl::StatusOr<std::vector<size_t>> DeviceState::Resolve(const std::vector<std::string>& ids) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<size_t> out;
  int replica_ids = 0;
  for (const auto& id : ids) {
    ParsedDeviceId parsed = ParseDeviceId(id);
    size_t pos = inventory_.gpus.size();
    for (size_t i = 0; i < inventory_.gpus.size(); ++i) {
      if (inventory_.gpus[i].uuid == parsed.uuid) pos = i;
    }
    if (pos == inventory_.gpus.size()) {
      return absl::NotFoundError(absl::StrCat("device id \"", id, "\": no such GPU on this node"));
    }
    if (parsed.replica >= 0) {
      ++replica_ids;
      if (parsed.replica >= replicas_[pos]) {
        return absl::NotFoundError(absl::StrCat("device id \"", id, "\": GPU ", parsed.uuid, " has ",
                                                replicas_[pos], " replicas"));
      }
    }
    if (std::find(out.begin(), out.end(), pos) == out.end()) out.push_back(pos);
  }
  if (fail_requests_greater_than_one_ && replica_ids > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request for ", replica_ids,
        " shared GPU replicas refused: sharing.timeSlicing.failRequestsGreaterThanOne is set"));
  }
  return out;
}

int DeviceState::Subscribe(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(mu_);
  int token = next_token_++;
  subscribers_[token] = std::move(on_change);
  return token;
}

void DeviceState::Unsubscribe(int token) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(token);
}

void DeviceState::Notify() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [token, cb] : subscribers_) callbacks.push_back(cb);
  }
  for (const auto& cb : callbacks) cb();
}

}  // namespace berth::gpu
