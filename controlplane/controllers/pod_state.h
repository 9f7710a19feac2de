// A pod's state as the workload controllers count it (kube's podutil):
// active (not finished and not being deleted), ready (condition Ready
// True), available (ready for at least minReadySeconds), and when it will
// become available.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "controlplane/controllers/replica_math.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

bool IsPodActive(const nlohmann::json& pod);
bool IsPodReady(const nlohmann::json& pod);
// Ready, and ready since at least `min_ready_seconds` before `now`.
bool IsPodAvailable(const nlohmann::json& pod, int32_t min_ready_seconds, absl::Time now);
// When a ready pod that is not yet available becomes available.
std::optional<absl::Time> PodAvailableAt(const nlohmann::json& pod, int32_t min_ready_seconds);
// The pod as replica_math's DeletionOrder ranks it.
PodForRanking RankingOf(const nlohmann::json& pod);

}  // namespace berth::controllers
