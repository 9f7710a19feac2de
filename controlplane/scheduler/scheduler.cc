#include "controlplane/scheduler/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace berth::scheduler {
namespace {

constexpr size_t kMinFeasibleNodesToFind = 100;
constexpr int kMinFeasibleNodesPercentageToFind = 5;
constexpr char kUnschedulablePayload[] = "berth.scheduler/unschedulable";

absl::Status Unschedulable(std::string message) {
  absl::Status status = absl::UnavailableError(std::move(message));
  status.SetPayload(kUnschedulablePayload, absl::Cord("1"));
  return status;
}

}  // namespace

std::string FailedSchedulingMessage(size_t all_nodes, const std::map<std::string, int>& reason_counts) {
  std::vector<std::string> parts;
  for (const auto& [reason, count] : reason_counts) parts.push_back(absl::StrCat(count, " ", reason));
  std::sort(parts.begin(), parts.end());
  return absl::StrCat("0/", all_nodes, " nodes are available: ", absl::StrJoin(parts, ", "), ".");
}

bool IsUnschedulable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable && status.GetPayload(kUnschedulablePayload).has_value();
}

Scheduler::Scheduler(SchedulerCache* cache, SchedulerOptions options)
    : cache_(cache), options_(std::move(options)), random_(options_.seed) {}

size_t Scheduler::NumFeasibleNodesToFind(size_t all_nodes, int percentage) {
  if (all_nodes < kMinFeasibleNodesToFind) return all_nodes;
  if (percentage <= 0) {
    percentage = 50 - static_cast<int>(all_nodes / 125);
    percentage = std::max(percentage, kMinFeasibleNodesPercentageToFind);
  }
  size_t n = all_nodes * std::min(percentage, 100) / 100;
  return std::max(n, kMinFeasibleNodesToFind);
}

absl::StatusOr<std::string> Scheduler::SchedulePod(const PodInfo& pod) {
  if (!IsResponsibleFor(pod)) {
    return absl::FailedPreconditionError(absl::StrCat("pod ", pod.Key(), " has schedulerName \"", pod.scheduler_name,
                                                      "\", not \"", options_.scheduler_name, "\""));
  }
  std::string key = pod.Key();
  if (cache_->GetPod(key) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("pod ", key, " is already ",
                                                 cache_->IsAssumed(key) ? "assumed" : "bound", " on node \"",
                                                 cache_->GetPod(key)->node_name, "\""));
  }
  const auto& nodes = cache_->nodes();
  if (nodes.empty()) return Unschedulable("no nodes available to schedule pods");

  PrepareCycle(pod, *cache_, &state_);
  size_t wanted = NumFeasibleNodesToFind(nodes.size(), options_.percentage_of_nodes_to_score);
  feasible_.clear();
  std::map<std::string, int> reason_counts;
  size_t processed = 0;
  for (; processed < nodes.size() && feasible_.size() < wanted; ++processed) {
    const NodeState* node = nodes[(next_start_node_index_ + processed) % nodes.size()];
    if (RunFilters(state_, *node, &reasons_)) {
      feasible_.push_back(node);
    } else {
      for (const std::string& reason : reasons_) ++reason_counts[reason];
    }
  }
  next_start_node_index_ = (next_start_node_index_ + processed) % nodes.size();
  if (feasible_.empty()) return Unschedulable(FailedSchedulingMessage(nodes.size(), reason_counts));

  const NodeState* chosen = feasible_[0];
  if (feasible_.size() > 1) {
    ScoreNodes(state_, *cache_, feasible_, options_.score, &totals_);
    int64_t best = totals_[0];
    size_t ties = 1;
    for (size_t i = 1; i < feasible_.size(); ++i) {
      if (totals_[i] > best) {
        best = totals_[i];
        chosen = feasible_[i];
        ties = 1;
      } else if (totals_[i] == best && std::uniform_int_distribution<size_t>(0, ties++)(random_) == 0) {
        chosen = feasible_[i];  // reservoir sampling: each tied node equally likely
      }
    }
  }
  std::string node_name = chosen->info.name;
  RETURN_IF_ERROR(cache_->AssumePod(pod, node_name));
  return node_name;
}

}  // namespace berth::scheduler
