// What the scheduler needs of a core/v1 Node, parsed from the object as the API
// server stores it: allocatable, labels, taints, spec.unschedulable, Ready.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "controlplane/scheduler/label_selector.h"
#include "controlplane/scheduler/resources.h"

namespace berth::scheduler {

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
  bool operator==(const Taint&) const = default;
};

struct NodeInfo {
  std::string name;
  Labels labels;
  Resources allocatable;  // without "pods"
  int64_t allowed_pods = 0;
  std::vector<Taint> taints;
  bool unschedulable = false;
  bool ready = false;  // the Ready condition is True
};

// Errors are InvalidArgument naming the field ("spec.taints[1].effect: Unsupported value: ...").
// Allocatable falls back to capacity for a resource it does not list.
absl::StatusOr<NodeInfo> NodeInfoFromJson(const nlohmann::json& node);

}  // namespace berth::scheduler
