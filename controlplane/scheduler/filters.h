// The filters of a scheduling cycle, in kube-scheduler's default order. Each
// returns true when the node can take the pod; otherwise it appends its
// reason(s) in kube-scheduler's wording ("Insufficient cpu") and returns false.
#pragma once

#include <string>
#include <vector>

#include "controlplane/scheduler/cycle_state.h"
#include "controlplane/scheduler/scheduler_cache.h"

namespace berth::scheduler {

using Reasons = std::vector<std::string>;

inline constexpr char kReasonUnschedulable[] = "node(s) were unschedulable";
inline constexpr char kReasonNodeName[] = "node(s) didn't match the requested node name";
inline constexpr char kReasonNodeAffinity[] = "node(s) didn't match Pod's node affinity/selector";
inline constexpr char kReasonNodePorts[] = "node(s) didn't have free ports for the requested pod ports";
inline constexpr char kReasonTooManyPods[] = "Too many pods";
inline constexpr char kReasonExistingAntiAffinity[] = "node(s) didn't satisfy existing pods anti-affinity rules";
inline constexpr char kReasonAffinity[] = "node(s) didn't match pod affinity rules";
inline constexpr char kReasonAntiAffinity[] = "node(s) didn't match pod anti-affinity rules";
inline constexpr char kReasonSpread[] = "node(s) didn't match pod topology spread constraints";
inline constexpr char kReasonSpreadMissingLabel[] =
    "node(s) didn't match pod topology spread constraints (missing required label)";

// The taints a not-Ready / cordoned node is treated as carrying (the node
// lifecycle controller's taints), so that pods tolerating them (DaemonSets) pass.
inline constexpr char kTaintNotReady[] = "node.kubernetes.io/not-ready";
inline constexpr char kTaintUnschedulable[] = "node.kubernetes.io/unschedulable";

// As core/v1 Toleration.ToleratesTaint.
bool ToleratesTaint(const k8s::Toleration& toleration, const Taint& taint);
bool ToleratesAny(const std::vector<k8s::Toleration>& tolerations, const Taint& taint);

bool NodeUnschedulableFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
bool NodeNameFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
// NoSchedule and NoExecute taints; a node whose Ready condition is not True
// counts as tainted node.kubernetes.io/not-ready:NoSchedule.
bool TaintTolerationFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
bool NodeAffinityFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
bool NodePortsFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
// Appends one reason per short resource ("Insufficient cpu", "Insufficient nvidia.com/gpu", "Too many pods").
bool NodeResourcesFitFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
bool PodTopologySpreadFilter(const CycleState& state, const NodeState& node, Reasons* reasons);
bool InterPodAffinityFilter(const CycleState& state, const NodeState& node, Reasons* reasons);

// Runs the filters in order, stopping at the first that fails (as kube-scheduler
// does per node). `reasons` is cleared first.
bool RunFilters(const CycleState& state, const NodeState& node, Reasons* reasons);

}  // namespace berth::scheduler
