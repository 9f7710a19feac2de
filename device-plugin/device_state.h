// DeviceState: the GPUs the plugin serves, their health and their time-slicing
// replicas, and the device list advertised from them. Every change bumps a
// generation and calls the subscribers (ListAndWatch streams), which then
// send the whole list again.
//
// Health comes from independent sources (NVML Xid events, health files); a
// GPU is healthy when no source says otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "device-plugin/gpu.h"
#include "device-plugin/sharing_config.h"

namespace berth::gpu {

enum class HealthSource { kNvml = 0, kFile = 1 };

struct AdvertisedDevice {
  std::string id;  // UUID or "<uuid>::<n>"
  bool healthy = true;
  int numa_node = -1;
};

struct DeviceList {
  uint64_t generation = 0;
  std::vector<AdvertisedDevice> devices;
};

class DeviceState {
 public:
  explicit DeviceState(Inventory inventory);

  const Inventory& inventory() const { return inventory_; }

  // Replaces the replicas per GPU (from ResolveReplicas) and the sharing
  // flags; returns whether the advertised list changed.
  bool SetSharing(const SharingConfig& config, const std::vector<int>& replicas);

  // Sets one source's verdict for the GPU at `position`; `reason` is logged.
  // Returns whether the GPU's overall health changed.
  bool SetHealth(size_t position, HealthSource source, bool healthy, const std::string& reason);
  bool Healthy(size_t position) const;

  DeviceList Devices() const;

  // The GPU positions behind device ids, each GPU once, in the order first
  // named. An unknown id is NotFound naming it; a replica number beyond the
  // GPU's replicas too. With failRequestsGreaterThanOne, more than one
  // replica id is InvalidArgument.
  absl::StatusOr<std::vector<size_t>> Resolve(const std::vector<std::string>& ids) const;

  // Position of the GPU with this UUID or index ("3"); -1 when none.
  int FindGpu(const std::string& uuid_or_index) const;

  // Called (without the state's lock held) after every change.
  int Subscribe(std::function<void()> on_change);
  void Unsubscribe(int token);

 private:
  void Notify();

  const Inventory inventory_;
  mutable std::mutex mu_;
  std::vector<std::array<std::string, 2>> unhealthy_reason_;  // per GPU per source; empty = healthy
  std::vector<int> replicas_;
  bool fail_requests_greater_than_one_ = false;
  uint64_t generation_ = 1;
  std::map<int, std::function<void()>> subscribers_;
  int next_token_ = 1;
};

}  // namespace berth::gpu
