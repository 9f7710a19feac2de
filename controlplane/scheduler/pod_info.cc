#include "controlplane/scheduler/pod_info.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "common/status_macros.h"
#include "controlplane/scheduler/json_fields.h"

namespace berth::scheduler {
namespace {

absl::StatusOr<Resources> ContainerRequests(const k8s::Container& c, absl::string_view field, bool nonzero) {
  ASSIGN_OR_RETURN(Resources r, ResourcesFromList(c.resources.requests, absl::StrCat(field, ".resources.requests")));
  if (nonzero) {
    if (!c.resources.requests.contains("cpu")) r.milli_cpu = kDefaultMilliCpuRequest;
    if (!c.resources.requests.contains("memory")) r.memory = kDefaultMemoryRequest;
  }
  return r;
}

absl::StatusOr<AffinityTerm> ParseAffinityTerm(const nlohmann::json& j, absl::string_view field,
                                               const std::string& pod_namespace) {
  if (!j.is_object()) return InvalidField(field, "must be an object");
  AffinityTerm term;
  const auto& key = Member(j, "topologyKey");
  if (!key.is_string() || key.get_ref<const std::string&>().empty()) {
    return InvalidField(absl::StrCat(field, ".topologyKey"), "Required value: can not be empty");
  }
  term.topology_key = key.get<std::string>();
  ASSIGN_OR_RETURN(term.selector, LabelSelector::FromJson(Member(j, "labelSelector"), absl::StrCat(field, ".labelSelector")));
  const auto& namespaces = Member(j, "namespaces");
  if (!namespaces.is_null()) {
    if (!namespaces.is_array()) return InvalidField(absl::StrCat(field, ".namespaces"), "must be a list of strings");
    for (size_t i = 0; i < namespaces.size(); ++i) {
      if (!namespaces[i].is_string()) return InvalidField(absl::StrCat(field, ".namespaces[", i, "]"), "must be a string");
      term.namespaces.push_back(namespaces[i].get<std::string>());
    }
  }
  const auto& ns_selector = Member(j, "namespaceSelector");
  if (!ns_selector.is_null()) {
    if (!ns_selector.is_object()) return InvalidField(absl::StrCat(field, ".namespaceSelector"), "must be an object");
    // Only the empty selector (every namespace) can be decided without the
    // namespaces' labels; a non-empty one adds no namespace here.
    if (ns_selector.empty()) term.all_namespaces = true;
  }
  if (term.namespaces.empty() && ns_selector.is_null()) term.namespaces.push_back(pod_namespace);
  return term;
}

absl::Status ParseAffinityTerms(const nlohmann::json& j, absl::string_view field, const std::string& pod_namespace,
                                bool weighted, std::vector<AffinityTerm>* out) {
  if (j.is_null()) return absl::OkStatus();
  if (!j.is_array()) return InvalidField(field, "must be a list");
  for (size_t i = 0; i < j.size(); ++i) {
    std::string item = absl::StrCat(field, "[", i, "]");
    if (!weighted) {
      ASSIGN_OR_RETURN(auto term, ParseAffinityTerm(j[i], item, pod_namespace));
      out->push_back(std::move(term));
      continue;
    }
    const auto& weight = Member(j[i], "weight");
    if (!weight.is_number_integer() || weight.get<int64_t>() < 1 || weight.get<int64_t>() > 100) {
      return InvalidField(absl::StrCat(item, ".weight"), absl::StrCat("must be in the range 1-100, got ", weight.dump()));
    }
    ASSIGN_OR_RETURN(auto term, ParseAffinityTerm(Member(j[i], "podAffinityTerm"),
                                                  absl::StrCat(item, ".podAffinityTerm"), pod_namespace));
    term.weight = weight.get<int32_t>();
    out->push_back(std::move(term));
  }
  return absl::OkStatus();
}

absl::Status ParseNodeAffinity(const nlohmann::json& j, absl::string_view field, PodInfo* pod) {
  if (j.is_null()) return absl::OkStatus();
  if (!j.is_object()) return InvalidField(field, "must be an object");
  const auto& required = Member(j, "requiredDuringSchedulingIgnoredDuringExecution");
  if (!required.is_null()) {
    ASSIGN_OR_RETURN(pod->required_node_affinity,
                     NodeSelector::FromJson(required, absl::StrCat(field, ".requiredDuringSchedulingIgnoredDuringExecution")));
  }
  const auto& preferred = Member(j, "preferredDuringSchedulingIgnoredDuringExecution");
  if (preferred.is_null()) return absl::OkStatus();
  std::string path = absl::StrCat(field, ".preferredDuringSchedulingIgnoredDuringExecution");
  if (!preferred.is_array()) return InvalidField(path, "must be a list");
  for (size_t i = 0; i < preferred.size(); ++i) {
    std::string item = absl::StrCat(path, "[", i, "]");
    const auto& weight = Member(preferred[i], "weight");
    if (!weight.is_number_integer() || weight.get<int64_t>() < 1 || weight.get<int64_t>() > 100) {
      return InvalidField(absl::StrCat(item, ".weight"), absl::StrCat("must be in the range 1-100, got ", weight.dump()));
    }
    ASSIGN_OR_RETURN(auto selector, NodeSelector::FromTermJson(Member(preferred[i], "preference"),
                                                               absl::StrCat(item, ".preference")));
    pod->preferred_node_affinity.push_back({weight.get<int32_t>(), std::move(selector)});
  }
  return absl::OkStatus();
}

absl::Status ParseAffinity(const nlohmann::json& affinity, PodInfo* pod) {
  if (affinity.is_null()) return absl::OkStatus();
  if (!affinity.is_object()) return InvalidField("spec.affinity", "must be an object");
  RETURN_IF_ERROR(ParseNodeAffinity(Member(affinity, "nodeAffinity"), "spec.affinity.nodeAffinity", pod));
  const std::string& ns = pod->namespace_;
  for (const char* kind : {"podAffinity", "podAntiAffinity"}) {
    const auto& section = Member(affinity, kind);
    if (section.is_null()) continue;
    std::string path = absl::StrCat("spec.affinity.", kind);
    if (!section.is_object()) return InvalidField(path, "must be an object");
    bool anti = absl::string_view(kind) == "podAntiAffinity";
    RETURN_IF_ERROR(ParseAffinityTerms(Member(section, "requiredDuringSchedulingIgnoredDuringExecution"),
                                       absl::StrCat(path, ".requiredDuringSchedulingIgnoredDuringExecution"), ns, false,
                                       anti ? &pod->required_anti_affinity : &pod->required_affinity));
    RETURN_IF_ERROR(ParseAffinityTerms(Member(section, "preferredDuringSchedulingIgnoredDuringExecution"),
                                       absl::StrCat(path, ".preferredDuringSchedulingIgnoredDuringExecution"), ns, true,
                                       anti ? &pod->preferred_anti_affinity : &pod->preferred_affinity));
  }
  return absl::OkStatus();
}

absl::Status ParseSpreadConstraints(const std::vector<nlohmann::json>& constraints, PodInfo* pod) {
  for (size_t i = 0; i < constraints.size(); ++i) {
    std::string field = absl::StrCat("spec.topologySpreadConstraints[", i, "]");
    const auto& j = constraints[i];
    if (!j.is_object()) return InvalidField(field, "must be an object");
    TopologySpreadConstraint c;
    const auto& max_skew = Member(j, "maxSkew");
    if (!max_skew.is_number_integer() || max_skew.get<int64_t>() < 1) {
      return InvalidField(absl::StrCat(field, ".maxSkew"), absl::StrCat("must be greater than zero, got ", max_skew.dump()));
    }
    c.max_skew = max_skew.get<int32_t>();
    const auto& key = Member(j, "topologyKey");
    if (!key.is_string() || key.get_ref<const std::string&>().empty()) {
      return InvalidField(absl::StrCat(field, ".topologyKey"), "Required value: can not be empty");
    }
    c.topology_key = key.get<std::string>();
    const auto& when = Member(j, "whenUnsatisfiable");
    std::string when_text = when.is_string() ? when.get<std::string>() : "";
    if (when_text != "DoNotSchedule" && when_text != "ScheduleAnyway") {
      return InvalidField(absl::StrCat(field, ".whenUnsatisfiable"),
                     absl::StrCat("Unsupported value: \"", when_text, "\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""));
    }
    c.do_not_schedule = when_text == "DoNotSchedule";
    ASSIGN_OR_RETURN(c.selector, LabelSelector::FromJson(Member(j, "labelSelector"), absl::StrCat(field, ".labelSelector")));
    pod->spread_constraints.push_back(std::move(c));
  }
  return absl::OkStatus();
}

}  // namespace

bool HostPort::ConflictsWith(const HostPort& other) const {
  if (port != other.port || protocol != other.protocol) return false;
  return ip == other.ip || ip == "0.0.0.0" || other.ip == "0.0.0.0";
}

bool AffinityTerm::Matches(const PodInfo& pod) const {
  if (!all_namespaces && std::find(namespaces.begin(), namespaces.end(), pod.namespace_) == namespaces.end()) {
    return false;
  }
  return selector.Matches(pod.labels);
}

absl::StatusOr<Resources> ComputePodRequests(const k8s::PodSpec& spec, bool nonzero) {
  Resources total;
  for (size_t i = 0; i < spec.containers.size(); ++i) {
    ASSIGN_OR_RETURN(Resources r, ContainerRequests(spec.containers[i], absl::StrCat("spec.containers[", i, "]"), nonzero));
    total.Add(r);
  }
  Resources sidecars;  // restartable init containers started so far
  Resources init_peak;
  for (size_t i = 0; i < spec.initContainers.size(); ++i) {
    const auto& c = spec.initContainers[i];
    ASSIGN_OR_RETURN(Resources r, ContainerRequests(c, absl::StrCat("spec.initContainers[", i, "]"), nonzero));
    if (c.restartPolicy == "Always") {
      total.Add(r);
      sidecars.Add(r);
      init_peak.SetMax(sidecars);
    } else {
      r.Add(sidecars);
      init_peak.SetMax(r);
    }
  }
  total.SetMax(init_peak);
  if (spec.resources.has_value()) {
    ASSIGN_OR_RETURN(Resources pod_level, ResourcesFromList(spec.resources->requests, "spec.resources.requests"));
    if (spec.resources->requests.contains("cpu")) total.milli_cpu = pod_level.milli_cpu;
    if (spec.resources->requests.contains("memory")) total.memory = pod_level.memory;
  }
  ASSIGN_OR_RETURN(Resources overhead, ResourcesFromList(spec.overhead, "spec.overhead"));
  total.Add(overhead);
  return total;
}

absl::StatusOr<PodInfo> PodInfoFromPod(const k8s::Pod& pod) {
  PodInfo out;
  if (pod.metadata.name.empty()) return InvalidField("metadata.name", "Required value");
  out.namespace_ = pod.metadata.namespace_.empty() ? "default" : pod.metadata.namespace_;
  out.name = pod.metadata.name;
  out.uid = pod.metadata.uid;
  out.node_name = pod.spec.nodeName;
  out.scheduler_name = pod.spec.schedulerName.empty() ? kDefaultSchedulerName : pod.spec.schedulerName;
  out.priority = pod.spec.priority.value_or(0);
  out.terminal = pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
  out.labels = Labels(pod.metadata.labels.begin(), pod.metadata.labels.end());
  ASSIGN_OR_RETURN(out.requests, ComputePodRequests(pod.spec, false));
  ASSIGN_OR_RETURN(out.nonzero_requests, ComputePodRequests(pod.spec, true));
  auto collect_ports = [&out](const std::vector<k8s::Container>& containers, absl::string_view kind) -> absl::Status {
    for (size_t i = 0; i < containers.size(); ++i) {
      for (size_t p = 0; p < containers[i].ports.size(); ++p) {
        const auto& port = containers[i].ports[p];
        if (port.hostPort == 0) continue;
        if (port.hostPort < 0 || port.hostPort > 65535) {
          return InvalidField(absl::StrCat("spec.", kind, "[", i, "].ports[", p, "].hostPort"),
                         absl::StrCat("must be between 1 and 65535, inclusive, got ", port.hostPort));
        }
        out.host_ports.push_back({port.hostIP.empty() ? "0.0.0.0" : port.hostIP,
                                  port.protocol.empty() ? "TCP" : port.protocol, port.hostPort});
      }
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(collect_ports(pod.spec.initContainers, "initContainers"));
  RETURN_IF_ERROR(collect_ports(pod.spec.containers, "containers"));
  out.node_selector = Labels(pod.spec.nodeSelector.begin(), pod.spec.nodeSelector.end());
  RETURN_IF_ERROR(ParseAffinity(pod.spec.affinity, &out));
  for (size_t i = 0; i < pod.spec.tolerations.size(); ++i) {
    const auto& t = pod.spec.tolerations[i];
    std::string field = absl::StrCat("spec.tolerations[", i, "]");
    if (!t.operator_.empty() && t.operator_ != "Equal" && t.operator_ != "Exists") {
      return InvalidField(absl::StrCat(field, ".operator"),
                     absl::StrCat("Unsupported value: \"", t.operator_, "\": supported values: \"Equal\", \"Exists\""));
    }
    if (t.operator_ == "Exists" && !t.value.empty()) {
      return InvalidField(absl::StrCat(field, ".operator"), "value must be empty when `operator` is 'Exists'");
    }
    if (!t.effect.empty() && t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
      return InvalidField(absl::StrCat(field, ".effect"),
                     absl::StrCat("Unsupported value: \"", t.effect,
                                  "\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""));
    }
    out.tolerations.push_back(t);
  }
  RETURN_IF_ERROR(ParseSpreadConstraints(pod.spec.topologySpreadConstraints, &out));
  return out;
}

absl::StatusOr<PodInfo> PodInfoFromJson(const nlohmann::json& pod) {
  ASSIGN_OR_RETURN(k8s::Pod decoded, k8s::PodFromJson(pod, k8s::DecodeOptions{.strict = false}));
  return PodInfoFromPod(decoded);
}

}  // namespace berth::scheduler
