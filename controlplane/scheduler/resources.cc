#include "controlplane/scheduler/resources.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace berth::scheduler {
namespace {

auto FindScalar(const std::vector<std::pair<std::string, int64_t>>& scalar, absl::string_view name) {
  return std::lower_bound(scalar.begin(), scalar.end(), name,
                          [](const auto& entry, absl::string_view n) { return entry.first < n; });
}

}  // namespace

ResourceKind KindOfResource(absl::string_view name) {
  if (name == "cpu") return ResourceKind::kCpu;
  if (name == "memory") return ResourceKind::kMemory;
  if (name == "ephemeral-storage") return ResourceKind::kEphemeralStorage;
  return ResourceKind::kScalar;
}

int64_t Resources::Get(absl::string_view name) const { return Get(KindOfResource(name), name); }

int64_t Resources::GetScalar(absl::string_view name) const {
  auto it = FindScalar(scalar, name);
  return it != scalar.end() && it->first == name ? it->second : 0;
}

void Resources::Set(absl::string_view name, int64_t amount) {
  if (name == "cpu") {
    milli_cpu = amount;
  } else if (name == "memory") {
    memory = amount;
  } else if (name == "ephemeral-storage") {
    ephemeral_storage = amount;
  } else {
    auto it = FindScalar(scalar, name);
    if (it != scalar.end() && it->first == name) {
      scalar[it - scalar.begin()].second = amount;
    } else {
      scalar.insert(scalar.begin() + (it - scalar.begin()), {std::string(name), amount});
    }
  }
}

void Resources::Add(const Resources& other) {
  milli_cpu += other.milli_cpu;
  memory += other.memory;
  ephemeral_storage += other.ephemeral_storage;
  for (const auto& [name, amount] : other.scalar) Set(name, Get(name) + amount);
}

void Resources::Subtract(const Resources& other) {
  milli_cpu -= other.milli_cpu;
  memory -= other.memory;
  ephemeral_storage -= other.ephemeral_storage;
  for (const auto& [name, amount] : other.scalar) Set(name, Get(name) - amount);
}

void Resources::SetMax(const Resources& other) {
  milli_cpu = std::max(milli_cpu, other.milli_cpu);
  memory = std::max(memory, other.memory);
  ephemeral_storage = std::max(ephemeral_storage, other.ephemeral_storage);
  for (const auto& [name, amount] : other.scalar) {
    if (amount > Get(name)) Set(name, amount);
  }
}

bool Resources::IsZero() const {
  if (milli_cpu != 0 || memory != 0 || ephemeral_storage != 0) return false;
  return std::all_of(scalar.begin(), scalar.end(), [](const auto& e) { return e.second == 0; });
}

absl::StatusOr<Resources> ResourcesFromList(const k8s::ResourceList& list, absl::string_view field) {
  Resources out;
  for (const auto& [name, quantity] : list) {
    int64_t amount = name == "cpu" ? quantity.MilliValue() : quantity.Value();
    if (amount < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", name, "]: must be greater than or equal to 0, got ", quantity.String()));
    }
    out.Set(name, amount);
  }
  return out;
}

}  // namespace berth::scheduler
