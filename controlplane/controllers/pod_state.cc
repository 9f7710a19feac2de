#include "controlplane/controllers/pod_state.h"

#include <algorithm>

#include "controlplane/controllers/object_refs.h"

namespace berth::controllers {

using nlohmann::json;

namespace {

const json* ReadyCondition(const json& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return nullptr;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return nullptr;
  for (const auto& c : *conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  }
  return nullptr;
}

std::string Phase(const json& pod) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return "";
  return status->value("phase", "");
}

}  // namespace

bool IsPodActive(const json& pod) {
  std::string phase = Phase(pod);
  return phase != "Succeeded" && phase != "Failed" && !IsBeingDeleted(pod);
}

bool IsPodReady(const json& pod) {
  const json* ready = ReadyCondition(pod);
  return ready != nullptr && ready->value("status", "") == "True";
}

std::optional<absl::Time> PodAvailableAt(const json& pod, int32_t min_ready_seconds) {
  const json* ready = ReadyCondition(pod);
  if (ready == nullptr || ready->value("status", "") != "True") return std::nullopt;
  if (min_ready_seconds <= 0) return absl::InfinitePast();
  absl::Time since = ParseApiTime(ready->value("lastTransitionTime", json()));
  if (since == absl::InfinitePast()) return absl::InfinitePast();
  return since + absl::Seconds(min_ready_seconds);
}

bool IsPodAvailable(const json& pod, int32_t min_ready_seconds, absl::Time now) {
  std::optional<absl::Time> at = PodAvailableAt(pod, min_ready_seconds);
  return at.has_value() && *at <= now;
}

PodForRanking RankingOf(const json& pod) {
  PodForRanking r;
  r.name = NameOf(pod);
  r.node_name = pod.contains("spec") ? pod["spec"].value("nodeName", "") : "";
  r.phase = Phase(pod);
  r.ready = IsPodReady(pod);
  if (const json* ready = ReadyCondition(pod); ready != nullptr && r.ready) {
    r.ready_since_unix = absl::ToUnixSeconds(ParseApiTime(ready->value("lastTransitionTime", json())));
  }
  const json& statuses = pod.contains("status") ? pod["status"].value("containerStatuses", json::array()) : json::array();
  for (const auto& cs : statuses) {
    if (cs.is_object()) r.restarts = std::max(r.restarts, cs.value("restartCount", 0));
  }
  r.created_unix = absl::ToUnixSeconds(ParseApiTime(pod["metadata"].value("creationTimestamp", json())));
  return r;
}

}  // namespace berth::controllers
