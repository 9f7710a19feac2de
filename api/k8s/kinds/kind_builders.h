// Internal to api/k8s/kinds: the pieces each kind's description is built from.
#pragma once

#include <string>
#include <vector>

#include "api/k8s/kinds/kind_registry.h"
#include "api/k8s/kinds/meta_validation.h"

namespace berth::k8s::kinds {

struct Definition;  // schema.h

struct KindNames {
  std::string group, version, kind, resource, singular;
  bool namespaced = true;
  std::vector<std::string> short_names, categories, subresources;
  NameRule name_rule = NameRule::kDNS1123Subdomain;
};

// A kind with metadata validation, no defaults, Name and Age columns and no
// extra selectable fields; the per-kind files replace what they specialise.
KindInfo NewKind(const KindNames& names);

// The schema's type errors as FieldValueInvalid errors.
std::vector<FieldError> TypeFieldErrors(const nlohmann::json& obj, const Definition& def);

// The Name and Age columns, as every kube-apiserver printer starts and ends.
TableColumn NameColumn();
TableColumn AgeColumn();
TableColumn Column(std::string name, std::string type, std::string description, int priority = 0);

// Wrap the kind's current validate / field_value with more checks / fields.
void AddValidation(KindInfo& k, std::function<void(const nlohmann::json& obj, const nlohmann::json* old,
                                                   std::vector<FieldError>& errs)> extra);
void AddFields(KindInfo& k, std::function<std::optional<std::string>(const nlohmann::json& obj,
                                                                     std::string_view field)> more);

// Pods and pod templates (pod_kind.cc), shared with the workload kinds.
void SetPodDefaults(nlohmann::json& pod);
// A PodTemplateSpec ({metadata, spec}): the pod defaults applied to its spec.
void SetPodTemplateDefaults(nlohmann::json& pod_template);
// ValidatePod's errors for `pod` (a Pod or a PodTemplateSpec with the same
// metadata/spec shape), paths prefixed with `prefix` ("spec.template.").
// With template_only, metadata name/namespace rules are skipped.
void ValidatePodSpec(const nlohmann::json& pod, const std::string& prefix, bool template_only,
                     std::vector<FieldError>& errs);

// The pod Table cells, kubectl's way, at `now_unix`.
struct PodRow {
  std::string name, ready, status, restarts, age, ip, node, nominated_node, readiness_gates;
};
PodRow PodRowAt(const nlohmann::json& pod, int64_t now_unix);

// kubectl's event columns, for both Event kinds (other_kinds.cc).
std::vector<TableColumn> EventColumns();

// Per-group and per-kind specialisation, one file each.
void ConfigureCoreKind(KindInfo& k);      // core_kinds.cc
void ConfigurePodKind(KindInfo& k);       // pod_kind.cc
void ConfigureWorkloadKind(KindInfo& k);  // workload_kinds.cc (apps/v1, batch/v1)
void ConfigureOtherKind(KindInfo& k);     // other_kinds.cc (leases, endpointslices, events.k8s.io)

}  // namespace berth::k8s::kinds
