#include "controlplane/scheduler/filters.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "api/k8s/tolerations.h"

namespace berth::scheduler {

bool ToleratesTaint(const k8s::Toleration& toleration, const Taint& taint) {
  return k8s::ToleratesTaint(toleration, taint.key, taint.value, taint.effect);
}

bool ToleratesAny(const std::vector<k8s::Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&taint](const k8s::Toleration& t) { return ToleratesTaint(t, taint); });
}

bool NodeUnschedulableFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  if (!node.info.unschedulable) return true;
  static const Taint kCordoned{kTaintUnschedulable, "", "NoSchedule"};
  if (ToleratesAny(state.pod->tolerations, kCordoned)) return true;
  reasons->push_back(kReasonUnschedulable);
  return false;
}

bool NodeNameFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  if (state.pod->node_name.empty() || state.pod->node_name == node.info.name) return true;
  reasons->push_back(kReasonNodeName);
  return false;
}

bool TaintTolerationFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  const auto& tolerations = state.pod->tolerations;
  for (const Taint& taint : node.info.taints) {
    if (taint.effect == "PreferNoSchedule" || ToleratesAny(tolerations, taint)) continue;
    reasons->push_back(absl::StrCat("node(s) had untolerated taint {", taint.key, ": ", taint.value, "}"));
    return false;
  }
  if (!node.info.ready) {
    static const Taint kNotReady{kTaintNotReady, "", "NoSchedule"};
    if (!ToleratesAny(tolerations, kNotReady)) {
      reasons->push_back(absl::StrCat("node(s) had untolerated taint {", kTaintNotReady, ": }"));
      return false;
    }
  }
  return true;
}

bool NodeAffinityFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  if (MatchesNodeSelectorAndAffinity(*state.pod, node.info)) return true;
  reasons->push_back(kReasonNodeAffinity);
  return false;
}

bool NodePortsFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  for (const HostPort& wanted : state.pod->host_ports) {
    for (const HostPort& used : node.used_ports) {
      if (wanted.ConflictsWith(used)) {
        reasons->push_back(kReasonNodePorts);
        return false;
      }
    }
  }
  return true;
}

bool NodeResourcesFitFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  size_t before = reasons->size();
  if (static_cast<int64_t>(node.pods.size()) + 1 > node.info.allowed_pods) reasons->push_back(kReasonTooManyPods);
  const Resources& want = state.pod->requests;
  const Resources& free_of = node.info.allocatable;
  const Resources& used = node.requested;
  if (want.milli_cpu > 0 && want.milli_cpu > free_of.milli_cpu - used.milli_cpu) {
    reasons->push_back("Insufficient cpu");
  }
  if (want.memory > 0 && want.memory > free_of.memory - used.memory) reasons->push_back("Insufficient memory");
  if (want.ephemeral_storage > 0 && want.ephemeral_storage > free_of.ephemeral_storage - used.ephemeral_storage) {
    reasons->push_back("Insufficient ephemeral-storage");
  }
  for (const auto& [name, amount] : want.scalar) {
    if (amount > 0 && amount > free_of.Get(name) - used.Get(name)) reasons->push_back(absl::StrCat("Insufficient ", name));
  }
  return reasons->size() == before;
}

bool PodTopologySpreadFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  for (const SpreadConstraintState& spread : state.hard_spread) {
    auto value = node.info.labels.find(spread.constraint->topology_key);
    if (value == node.info.labels.end()) {
      reasons->push_back(kReasonSpreadMissingLabel);
      return false;
    }
    auto count = spread.counts.find(value->second);
    int64_t matching = count == spread.counts.end() ? 0 : count->second;
    int64_t skew = matching + (spread.self_match ? 1 : 0) - spread.min_count;
    if (skew > spread.constraint->max_skew) {
      reasons->push_back(kReasonSpread);
      return false;
    }
  }
  return true;
}

bool InterPodAffinityFilter(const CycleState& state, const NodeState& node, Reasons* reasons) {
  if (!state.check_inter_pod_affinity) return true;
  const Labels& labels = node.info.labels;
  if (state.inter_pod.existing_anti_affinity.AnyPositiveIn(labels)) {
    reasons->push_back(kReasonExistingAntiAffinity);
    return false;
  }
  const PodInfo& pod = *state.pod;
  bool pods_exist = true;
  for (const AffinityTerm& term : pod.required_affinity) {
    auto value = labels.find(term.topology_key);
    if (value == labels.end()) {
      reasons->push_back(kReasonAffinity);
      return false;
    }
    if (state.inter_pod.affinity.Get(term.topology_key, value->second) <= 0) pods_exist = false;
  }
  if (!pods_exist) {
    // The first pod of a group with affinity to itself may go anywhere the topology keys exist.
    bool first_of_group = state.inter_pod.affinity.empty() &&
                          std::all_of(pod.required_affinity.begin(), pod.required_affinity.end(),
                                      [&pod](const AffinityTerm& t) { return t.Matches(pod); });
    if (!first_of_group) {
      reasons->push_back(kReasonAffinity);
      return false;
    }
  }
  for (const AffinityTerm& term : pod.required_anti_affinity) {
    auto value = labels.find(term.topology_key);
    if (value != labels.end() && state.inter_pod.anti_affinity.Get(term.topology_key, value->second) > 0) {
      reasons->push_back(kReasonAntiAffinity);
      return false;
    }
  }
  return true;
}

bool RunFilters(const CycleState& state, const NodeState& node, Reasons* reasons) {
  reasons->clear();
  return NodeUnschedulableFilter(state, node, reasons) && NodeNameFilter(state, node, reasons) &&
         TaintTolerationFilter(state, node, reasons) && NodeAffinityFilter(state, node, reasons) &&
         NodePortsFilter(state, node, reasons) && NodeResourcesFitFilter(state, node, reasons) &&
         PodTopologySpreadFilter(state, node, reasons) && InterPodAffinityFilter(state, node, reasons);
}

}  // namespace berth::scheduler
