// Resource amounts as the scheduler adds and compares them: cpu in millicores,
// memory and ephemeral-storage in bytes, and every other resource (extended
// resources such as nvidia.com/gpu, hugepages-*) as whole units by name.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/k8s/container.h"

namespace berth::scheduler {

// Kube-scheduler's defaults for a container that requests no cpu / memory,
// used only when scoring (so that best-effort pods still spread).
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

enum class ResourceKind { kCpu, kMemory, kEphemeralStorage, kScalar };
ResourceKind KindOfResource(absl::string_view name);

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  // Other resources, sorted by name; never holds cpu, memory or ephemeral-storage.
  std::vector<std::pair<std::string, int64_t>> scalar;

  // The amount of `name` (0 when absent); cpu is in millicores.
  int64_t Get(absl::string_view name) const;
  // The same without comparing names for cpu, memory and ephemeral-storage.
  int64_t Get(ResourceKind kind, absl::string_view name) const {
    switch (kind) {
      case ResourceKind::kCpu: return milli_cpu;
      case ResourceKind::kMemory: return memory;
      case ResourceKind::kEphemeralStorage: return ephemeral_storage;
      case ResourceKind::kScalar: break;
    }
    return GetScalar(name);
  }
  int64_t GetScalar(absl::string_view name) const;
  void Set(absl::string_view name, int64_t amount);
  void Add(const Resources& other);
  void Subtract(const Resources& other);
  // Each resource the larger of the two.
  void SetMax(const Resources& other);
  bool IsZero() const;
  bool operator==(const Resources&) const = default;
};

// A ResourceList (requests, limits, allocatable) as Resources. `field` names the
// list in errors ("spec.containers[0].resources.requests"); a negative amount
// is an error.
absl::StatusOr<Resources> ResourcesFromList(const k8s::ResourceList& list, absl::string_view field);

}  // namespace berth::scheduler
