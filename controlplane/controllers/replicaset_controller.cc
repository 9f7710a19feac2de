#include "controlplane/controllers/replicaset_controller.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/controllers/claim.h"
#include "controlplane/controllers/object_refs.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/replica_math.h"
#include "controlplane/scheduler/label_selector.h"

namespace berth::controllers {

using nlohmann::json;
namespace resources = client::resources;

namespace {

constexpr char kApiVersion[] = "apps/v1";
constexpr char kKind[] = "ReplicaSet";

int32_t MinReadySeconds(const json& rs) { return rs["spec"].value("minReadySeconds", 0); }


bool TemplateLabelsMatch(const json& rs, const scheduler::Labels& pod_labels) {
  const json& labels = rs["spec"]["template"]["metadata"].value("labels", json::object());
  for (const auto& [k, v] : labels.items()) {
    auto it = pod_labels.find(k);
    if (it == pod_labels.end() || !v.is_string() || it->second != v.get<std::string>()) return false;
  }
  return true;
}

}  // namespace

json PodFromTemplate(const json& template_spec, const json& owner, const std::string& owner_api_version,
                     const std::string& owner_kind) {
  json meta = json::object();
  const json& tmeta = template_spec.value("metadata", json::object());
  if (tmeta.contains("labels")) meta["labels"] = tmeta["labels"];
  if (tmeta.contains("annotations")) meta["annotations"] = tmeta["annotations"];
  if (tmeta.contains("finalizers")) meta["finalizers"] = tmeta["finalizers"];
  meta["generateName"] = NameOf(owner) + "-";
  meta["namespace"] = NamespaceOf(owner);
  meta["ownerReferences"] = json::array({NewControllerRef(owner, owner_api_version, owner_kind)});
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", std::move(meta)},
          {"spec", template_spec.value("spec", json::object())}};
}

ReplicaSetController::ReplicaSetController(client::ApiClient* client, client::Informer* replicasets,
                                           client::Informer* pods)
    : client_(client), replicasets_(replicasets), pods_(pods) {
  client::InformerHandlers rs_handlers;
  rs_handlers.on_add = [this](const json& rs) { queue_.Add(KeyOf(rs)); };
  rs_handlers.on_update = [this](const json&, const json& rs) { queue_.Add(KeyOf(rs)); };
  rs_handlers.on_delete = [this](const json& rs) { expectations_.Forget(KeyOf(rs)); };
  replicasets_->AddHandlers(std::move(rs_handlers));
  client::InformerHandlers pod_handlers;
  pod_handlers.on_add = [this](const json& pod) { OnPodAdded(pod); };
  pod_handlers.on_update = [this](const json& old_pod, const json& pod) { OnPodUpdated(old_pod, pod); };
  pod_handlers.on_delete = [this](const json& pod) { OnPodDeleted(pod); };
  pods_->AddHandlers(std::move(pod_handlers));
}

std::string ReplicaSetController::OwnerKey(const json& pod) const {
  std::optional<json> ref = ControllerRefOf(pod);
  if (!ref || ref->value("kind", "") != kKind || ref->value("apiVersion", "").rfind("apps/", 0) != 0) return "";
  std::optional<json> rs = replicasets_->Get(NamespaceOf(pod), ref->value("name", ""));
  if (!rs || UidOf(*rs) != ref->value("uid", "")) return "";
  return KeyOf(*rs);
}

void ReplicaSetController::QueueMatchingReplicaSets(const json& pod) {
  scheduler::Labels labels = LabelsOf(pod);
  for (const json& rs : InNamespace(replicasets_->List(), NamespaceOf(pod))) {
    auto selector = scheduler::LabelSelector::FromJson(rs["spec"].value("selector", json()), "spec.selector");
    if (selector.ok() && selector->Matches(labels)) queue_.Add(KeyOf(rs));
  }
}

void ReplicaSetController::OnPodAdded(const json& pod) {
  if (IsBeingDeleted(pod)) return OnPodDeleted(pod);
  if (ControllerRefOf(pod)) {
    std::string owner = OwnerKey(pod);
    if (owner.empty()) return;
    expectations_.CreationObserved(owner);
    queue_.Add(owner);
    return;
  }
  QueueMatchingReplicaSets(pod);
}

void ReplicaSetController::OnPodUpdated(const json& old_pod, const json& pod) {
  if (ResourceVersionOf(old_pod) == ResourceVersionOf(pod)) return;
  std::string owner = OwnerKey(pod);
  if (IsBeingDeleted(pod) && !owner.empty()) expectations_.DeletionObserved(owner, UidOf(pod));
  std::string old_owner = OwnerKey(old_pod);
  if (!old_owner.empty() && old_owner != owner) queue_.Add(old_owner);
  if (!owner.empty()) {
    queue_.Add(owner);
    // A pod that just became ready becomes available minReadySeconds later.
    if (!IsPodReady(old_pod) && IsPodReady(pod)) {
      auto [ns, name] = SplitKey(owner);
      std::optional<json> rs = replicasets_->Get(ns, name);
      if (rs && MinReadySeconds(*rs) > 0) queue_.AddAfter(owner, absl::Seconds(MinReadySeconds(*rs) + 1));
    }
    return;
  }
  if (LabelsOf(old_pod) != LabelsOf(pod) || ControllerRefOf(old_pod) != ControllerRefOf(pod)) {
    QueueMatchingReplicaSets(pod);
  }
}

void ReplicaSetController::OnPodDeleted(const json& pod) {
  std::string owner = OwnerKey(pod);
  if (owner.empty()) return;
  expectations_.DeletionObserved(owner, UidOf(pod));
  queue_.Add(owner);
}

absl::StatusOr<std::vector<json>> ReplicaSetController::ClaimPods(const json& rs) {
  return ClaimObjects(client_, resources::kPods, {&rs, kApiVersion, kKind}, InNamespace(pods_->List(), NamespaceOf(rs)),
                      [](const json& pod) { return IsPodActive(pod); });
}

absl::Status ReplicaSetController::ManageReplicas(const json& rs, const std::vector<json>& active) {
  const std::string key = KeyOf(rs);
  int32_t replicas = rs["spec"].value("replicas", 1);
  int32_t diff = ReplicaDiff(replicas, static_cast<int32_t>(active.size()));
  if (diff > 0) {
    expectations_.ExpectCreations(key, diff);
    json pod = PodFromTemplate(rs["spec"]["template"], rs, kApiVersion, kKind);
    int32_t created = 0;
    for (int32_t batch : SlowStartBatches(diff)) {
      for (int32_t i = 0; i < batch; ++i) {
        auto made = client_->Create(resources::kPods, NamespaceOf(rs), pod);
        if (!made.ok()) {
          // The rest will not be seen: stop waiting for them.
          for (int32_t j = created; j < diff; ++j) expectations_.CreationObserved(key);
          return absl::Status(made.status().code(), absl::StrCat("create pod for ReplicaSet ", key, " (", created,
                                                                 " of ", diff, " created): ", made.status().message()));
        }
        ++created;
      }
    }
    BERTH_LOG(Debug) << "created pods" << Kv("replicaset", key) << Kv("count", created);
    return absl::OkStatus();
  }
  if (diff < 0) {
    std::map<std::string, const json*> by_name;
    std::vector<PodForRanking> ranked;
    for (const json& pod : active) {
      by_name[NameOf(pod)] = &pod;
      ranked.push_back(RankingOf(pod));
    }
    ranked = DeletionOrder(std::move(ranked));
    int32_t count = -diff;
    std::set<std::string> uids;
    for (int32_t i = 0; i < count; ++i) uids.insert(UidOf(*by_name[ranked[i].name]));
    expectations_.ExpectDeletions(key, uids);
    for (int32_t i = 0; i < count; ++i) {
      const std::string& name = ranked[i].name;
      const std::string uid = UidOf(*by_name[name]);
      client::DeleteOptions options;
      options.precondition_uid = uid;
      auto deleted = client_->Delete(resources::kPods, NamespaceOf(rs), name, options);
      if (!deleted.ok()) {
        expectations_.DeletionObserved(key, uid);
        if (absl::IsNotFound(deleted.status())) continue;
        for (int32_t j = i + 1; j < count; ++j) expectations_.DeletionObserved(key, UidOf(*by_name[ranked[j].name]));
        return absl::Status(deleted.status().code(), absl::StrCat("delete pod ", NamespaceOf(rs), "/", name,
                                                                  " of ReplicaSet ", key, ": ",
                                                                  deleted.status().message()));
      }
    }
    BERTH_LOG(Debug) << "deleted pods" << Kv("replicaset", key) << Kv("count", count);
  }
  return absl::OkStatus();
}

absl::Status ReplicaSetController::UpdateStatus(const json& rs, const std::vector<json>& active) {
  const absl::Time now = absl::Now();
  const int32_t min_ready = MinReadySeconds(rs);
  int32_t fully_labeled = 0, ready = 0, available = 0;
  std::optional<absl::Time> next_available;
  for (const json& pod : active) {
    if (TemplateLabelsMatch(rs, LabelsOf(pod))) ++fully_labeled;
    if (!IsPodReady(pod)) continue;
    ++ready;
    if (IsPodAvailable(pod, min_ready, now)) {
      ++available;
    } else if (std::optional<absl::Time> at = PodAvailableAt(pod, min_ready)) {
      if (!next_available || *at < *next_available) next_available = *at;
    }
  }
  json status = rs.value("status", json::object());
  json wanted = status;
  wanted["replicas"] = static_cast<int32_t>(active.size());
  wanted["fullyLabeledReplicas"] = fully_labeled;
  wanted["readyReplicas"] = ready;
  wanted["availableReplicas"] = available;
  wanted["observedGeneration"] = rs["metadata"].value("generation", int64_t{0});
  if (next_available) queue_.AddAfter(KeyOf(rs), *next_available - now + absl::Milliseconds(100));
  return UpdateStatusIfChanged(client_, resources::kReplicaSets, rs, kApiVersion, kKind, std::move(wanted));
}

absl::Status ReplicaSetController::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  std::optional<json> rs = replicasets_->Get(ns, name);
  if (!rs) {
    expectations_.Forget(key);
    return absl::OkStatus();
  }
  auto owned = ClaimPods(*rs);
  if (!owned.ok()) {
    if (absl::IsInvalidArgument(owned.status())) {
      BERTH_LOG(Warning) << "ReplicaSet has an invalid selector" << Kv("replicaset", key)
                         << Kv("error", owned.status().ToString());
      return absl::OkStatus();  // retrying cannot help; an update re-queues it
    }
    return owned.status();
  }
  std::vector<json> active;
  for (json& pod : *owned) {
    if (IsPodActive(pod)) active.push_back(std::move(pod));
  }
  absl::Status managed = absl::OkStatus();
  if (expectations_.Satisfied(key) && !IsBeingDeleted(*rs)) managed = ManageReplicas(*rs, active);
  // Status from what exists now; the informer's events bring the changes.
  RETURN_IF_ERROR(UpdateStatus(*rs, active));
  return managed;
}

}  // namespace berth::controllers
