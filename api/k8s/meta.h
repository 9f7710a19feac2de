// meta/v1 TypeMeta, ObjectMeta and OwnerReference.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::k8s {

struct TypeMeta {
  std::string apiVersion;
  std::string kind;
  bool operator==(const TypeMeta&) const = default;
};

struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> blockOwnerDeletion;
  bool operator==(const OwnerReference&) const = default;
};

// Timestamps are RFC 3339 strings ("2024-01-02T03:04:05Z") as served.
struct ObjectMeta {
  std::string name;
  std::string generateName;
  std::string namespace_;  // "namespace" on the wire
  std::string uid;
  std::string resourceVersion;
  int64_t generation = 0;
  std::optional<std::string> creationTimestamp;
  std::optional<std::string> deletionTimestamp;
  std::optional<int64_t> deletionGracePeriodSeconds;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerReference> ownerReferences;
  std::vector<std::string> finalizers;
  std::vector<nlohmann::json> managedFields;  // raw ManagedFieldsEntry objects
  bool operator==(const ObjectMeta&) const = default;
};

}  // namespace berth::k8s
