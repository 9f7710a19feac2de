#include "controlplane/scheduler/node_info.h"

#include "absl/strings/str_cat.h"
#include "api/k8s/quantity.h"
#include "common/status_macros.h"
#include "controlplane/scheduler/json_fields.h"

namespace berth::scheduler {
namespace {

absl::Status ParseResourceMap(const nlohmann::json& j, absl::string_view field, k8s::ResourceList* out) {
  if (j.is_null()) return absl::OkStatus();
  if (!j.is_object()) return InvalidField(field, "must be a map of resource quantities");
  for (const auto& [name, value] : j.items()) {
    std::string item = absl::StrCat(field, "[", name, "]");
    absl::StatusOr<k8s::Quantity> q = value.is_string()   ? k8s::Quantity::Parse(value.get<std::string>())
                                      : value.is_number() ? k8s::Quantity::Parse(value.dump())
                                                          : absl::InvalidArgumentError("must be a quantity");
    if (!q.ok()) return InvalidField(item, q.status().message());
    (*out)[name] = *q;
  }
  return absl::OkStatus();
}

absl::Status ParseLabels(const nlohmann::json& j, Labels* out) {
  if (j.is_null()) return absl::OkStatus();
  if (!j.is_object()) return InvalidField("metadata.labels", "must be a map of strings");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) return InvalidField(absl::StrCat("metadata.labels[", key, "]"), "must be a string");
    out->emplace(key, value.get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NodeInfo> NodeInfoFromJson(const nlohmann::json& node) {
  if (!node.is_object()) return absl::InvalidArgumentError("node: must be a JSON object");
  NodeInfo out;
  const auto& metadata = Member(node, "metadata");
  const auto& name = Member(metadata, "name");
  if (!name.is_string() || name.get_ref<const std::string&>().empty()) {
    return InvalidField("metadata.name", "Required value");
  }
  out.name = name.get<std::string>();
  RETURN_IF_ERROR(ParseLabels(Member(metadata, "labels"), &out.labels));

  const auto& spec = Member(node, "spec");
  const auto& unschedulable = Member(spec, "unschedulable");
  if (!unschedulable.is_null() && !unschedulable.is_boolean()) {
    return InvalidField("spec.unschedulable", absl::StrCat("must be a boolean, got ", unschedulable.dump()));
  }
  out.unschedulable = unschedulable.is_boolean() && unschedulable.get<bool>();
  const auto& taints = Member(spec, "taints");
  if (!taints.is_null() && !taints.is_array()) return InvalidField("spec.taints", "must be a list");
  for (size_t i = 0; taints.is_array() && i < taints.size(); ++i) {
    std::string field = absl::StrCat("spec.taints[", i, "]");
    const auto& key = Member(taints[i], "key");
    if (!key.is_string() || key.get_ref<const std::string&>().empty()) {
      return InvalidField(absl::StrCat(field, ".key"), "Required value");
    }
    const auto& value = Member(taints[i], "value");
    const auto& effect = Member(taints[i], "effect");
    std::string effect_text = effect.is_string() ? effect.get<std::string>() : "";
    if (effect_text != "NoSchedule" && effect_text != "PreferNoSchedule" && effect_text != "NoExecute") {
      return InvalidField(absl::StrCat(field, ".effect"),
                     absl::StrCat("Unsupported value: \"", effect_text,
                                  "\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""));
    }
    out.taints.push_back({key.get<std::string>(), value.is_string() ? value.get<std::string>() : "", effect_text});
  }

  const auto& status = Member(node, "status");
  k8s::ResourceList capacity, allocatable;
  RETURN_IF_ERROR(ParseResourceMap(Member(status, "capacity"), "status.capacity", &capacity));
  RETURN_IF_ERROR(ParseResourceMap(Member(status, "allocatable"), "status.allocatable", &allocatable));
  for (const auto& [resource, quantity] : capacity) allocatable.emplace(resource, quantity);
  if (auto pods = allocatable.find("pods"); pods != allocatable.end()) {
    out.allowed_pods = pods->second.Value();
    allocatable.erase(pods);
  }
  ASSIGN_OR_RETURN(out.allocatable, ResourcesFromList(allocatable, "status.allocatable"));
  const auto& conditions = Member(status, "conditions");
  for (size_t i = 0; conditions.is_array() && i < conditions.size(); ++i) {
    if (Member(conditions[i], "type") == "Ready") out.ready = Member(conditions[i], "status") == "True";
  }
  return out;
}

}  // namespace berth::scheduler
