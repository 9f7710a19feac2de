#include "controlplane/controllers/deployment_controller.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/controllers/claim.h"
#include "controlplane/controllers/object_refs.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/rollout_math.h"
#include "controlplane/scheduler/label_selector.h"

namespace berth::controllers {

using nlohmann::json;
namespace resources = client::resources;

namespace {

constexpr char kApiVersion[] = "apps/v1";
constexpr char kKind[] = "Deployment";

int32_t SpecReplicas(const json& obj) { return obj["spec"].value("replicas", 1); }
int32_t StatusInt(const json& obj, const char* field) {
  auto status = obj.find("status");
  if (status == obj.end() || !status->is_object()) return 0;
  return status->value(field, 0);
}

std::string Annotation(const json& obj, const std::string& key) {
  const json& annotations = obj["metadata"].value("annotations", json::object());
  auto it = annotations.find(key);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Revision(const json& rs) {
  int64_t revision = 0;
  return absl::SimpleAtoi(Annotation(rs, kRevisionAnnotation), &revision) ? revision : 0;
}

ReplicaSetCounts CountsOf(const json& rs) {
  return {NameOf(rs), absl::ToUnixSeconds(ParseApiTime(rs["metadata"].value("creationTimestamp", json()))),
          SpecReplicas(rs), StatusInt(rs, "availableReplicas")};
}

// Annotations a ReplicaSet takes from its Deployment (kube's
// skipCopyAnnotation leaves out the controller's own and kubectl's).
bool CopiedAnnotation(const std::string& key) {
  return key != "kubectl.kubernetes.io/last-applied-configuration" && key != kRevisionAnnotation &&
         key != "deployment.kubernetes.io/revision-history" && key != kDesiredReplicasAnnotation &&
         key != kMaxReplicasAnnotation && key != "deprecated.deployment.rollback.to";
}

json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& now) {
  return {{"type", type},     {"status", status},   {"reason", reason},
          {"message", message}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
}

const json* FindCondition(const json& conditions, const std::string& type) {
  for (const json& c : conditions) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// kube's SetDeploymentCondition: the same status and reason keep the old
// condition (and its times) unless `refresh` (progress made: a new
// lastUpdateTime); a new status gets a new lastTransitionTime.
void SetCondition(json& conditions, json condition, bool refresh) {
  const json* current = FindCondition(conditions, condition["type"]);
  if (current != nullptr) {
    if ((*current)["status"] == condition["status"] && (*current)["reason"] == condition["reason"] &&
        (*current)["message"] == condition["message"] && !refresh) {
      return;
    }
    if ((*current)["status"] == condition["status"]) condition["lastTransitionTime"] = (*current)["lastTransitionTime"];
  }
  json kept = json::array();
  for (json& c : conditions) {
    if (c.value("type", "") != condition.value("type", "")) kept.push_back(std::move(c));
  }
  kept.push_back(std::move(condition));
  conditions = std::move(kept);
}

// The template without nulls and empty objects or arrays, which Go's
// semantic equality does not tell from absent fields (`kubectl rollout undo`
// sends "creationTimestamp": null back in the template it restores).
json Normalized(const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : value.items()) {
      json n = Normalized(v);
      if (n.is_null() || (n.is_object() && n.empty()) || (n.is_array() && n.empty())) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& v : value) out.push_back(Normalized(v));
    return out;
  }
  return value;
}

}  // namespace

std::string PodTemplateHash(const json& pod_template, int32_t collision_count) {
  uint32_t hash = 2166136261u;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 16777619u;
  };
  for (unsigned char c : Normalized(pod_template).dump()) mix(c);
  if (collision_count > 0) {
    for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>((collision_count >> (8 * i)) & 0xff));
  }
  // kube's rand.SafeEncodeString of the decimal hash: no vowels, no
  // look-alike characters, so a suffix never spells words.
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(hash)) out.push_back(kAlphabet[static_cast<unsigned char>(c) % 27]);
  return out;
}

bool EqualIgnoringHash(const json& a, const json& b) {
  auto strip = [](json t) {
    if (t.contains("metadata") && t["metadata"].contains("labels") && t["metadata"]["labels"].is_object()) {
      t["metadata"]["labels"].erase(kPodTemplateHashLabel);
      if (t["metadata"]["labels"].empty()) t["metadata"].erase("labels");
    }
    return t;
  };
  return Normalized(strip(a)) == Normalized(strip(b));
}

struct DeploymentController::Rollout {
  json d;
  std::vector<json> rss;       // every owned ReplicaSet
  std::optional<json> new_rs;  // a copy; rss keeps the cached one
  std::vector<json> old_rss;
  SurgeAndUnavailable limits;
  bool new_rs_created = false;

  std::string Key() const { return KeyOf(d); }
  int32_t Replicas() const { return SpecReplicas(d); }
  bool Recreate() const { return d["spec"].value("strategy", json::object()).value("type", "") == "Recreate"; }
  std::vector<ReplicaSetCounts> OldCounts() const {
    std::vector<ReplicaSetCounts> out;
    for (const json& rs : old_rss) out.push_back(CountsOf(rs));
    return out;
  }
  ReplicaSetCounts NewCounts() const { return new_rs ? CountsOf(*new_rs) : ReplicaSetCounts{}; }
};

DeploymentController::DeploymentController(client::ApiClient* client, client::Informer* deployments,
                                           client::Informer* replicasets, client::Informer* pods)
    : client_(client), deployments_(deployments), replicasets_(replicasets), pods_(pods) {
  client::InformerHandlers d_handlers;
  d_handlers.on_add = [this](const json& d) { queue_.Add(KeyOf(d)); };
  d_handlers.on_update = [this](const json&, const json& d) { queue_.Add(KeyOf(d)); };
  d_handlers.on_delete = [this](const json& d) { queue_.Add(KeyOf(d)); };
  deployments_->AddHandlers(std::move(d_handlers));
  client::InformerHandlers rs_handlers;
  rs_handlers.on_add = [this](const json& rs) { OnReplicaSetEvent(rs); };
  rs_handlers.on_update = [this](const json& old_rs, const json& rs) {
    std::string old_owner = OwnerKey(old_rs);
    if (!old_owner.empty() && old_owner != OwnerKey(rs)) queue_.Add(old_owner);
    OnReplicaSetEvent(rs);
  };
  rs_handlers.on_delete = [this](const json& rs) { OnReplicaSetEvent(rs); };
  replicasets_->AddHandlers(std::move(rs_handlers));
  client::InformerHandlers pod_handlers;
  pod_handlers.on_delete = [this](const json& pod) { OnPodDeleted(pod); };
  pods_->AddHandlers(std::move(pod_handlers));
}

std::string DeploymentController::OwnerKey(const json& obj) const {
  std::optional<json> ref = ControllerRefOf(obj);
  if (!ref || ref->value("kind", "") != kKind) return "";
  std::optional<json> d = deployments_->Get(NamespaceOf(obj), ref->value("name", ""));
  if (!d || UidOf(*d) != ref->value("uid", "")) return "";
  return KeyOf(*d);
}

void DeploymentController::OnReplicaSetEvent(const json& rs) {
  if (ControllerRefOf(rs)) {
    std::string owner = OwnerKey(rs);
    if (!owner.empty()) queue_.Add(owner);
    return;
  }
  scheduler::Labels labels = LabelsOf(rs);
  for (const json& d : InNamespace(deployments_->List(), NamespaceOf(rs))) {
    auto selector = scheduler::LabelSelector::FromJson(d["spec"].value("selector", json()), "spec.selector");
    if (selector.ok() && selector->Matches(labels)) queue_.Add(KeyOf(d));
  }
}

// Recreate waits for the old pods to go: their deletions re-queue it.
void DeploymentController::OnPodDeleted(const json& pod) {
  std::optional<json> ref = ControllerRefOf(pod);
  if (!ref || ref->value("kind", "") != "ReplicaSet") return;
  std::optional<json> rs = replicasets_->Get(NamespaceOf(pod), ref->value("name", ""));
  if (!rs) return;
  std::string owner = OwnerKey(*rs);
  if (owner.empty()) return;
  auto [ns, name] = SplitKey(owner);
  std::optional<json> d = deployments_->Get(ns, name);
  if (d && d->value("spec", json::object()).value("strategy", json::object()).value("type", "") == "Recreate") {
    queue_.Add(owner);
  }
}

absl::StatusOr<std::vector<json>> DeploymentController::ClaimReplicaSets(const json& d) {
  return ClaimObjects(client_, resources::kReplicaSets, {&d, kApiVersion, kKind},
                      InNamespace(replicasets_->List(), NamespaceOf(d)), [](const json&) { return true; });
}

absl::Status DeploymentController::FindNewReplicaSet(Rollout& r, bool create) {
  const json& tmpl = r.d["spec"]["template"];
  const std::string hash = PodTemplateHash(tmpl, StatusInt(r.d, "collisionCount"));
  // The oldest ReplicaSet with the Deployment's template is the new one.
  std::vector<const json*> by_age;
  for (const json& rs : r.rss) by_age.push_back(&rs);
  std::stable_sort(by_age.begin(), by_age.end(), [](const json* a, const json* b) {
    return ParseApiTime((*a)["metadata"].value("creationTimestamp", json())) <
           ParseApiTime((*b)["metadata"].value("creationTimestamp", json()));
  });
  r.new_rs.reset();
  r.old_rss.clear();
  for (const json* rs : by_age) {
    bool same = EqualIgnoringHash((*rs)["spec"]["template"], tmpl) ||
                (*rs)["spec"]["template"]["metadata"].value("labels", json::object()).value(kPodTemplateHashLabel, "") ==
                    hash;
    if (same && !r.new_rs) {
      r.new_rs = *rs;
    } else {
      r.old_rss.push_back(*rs);
    }
  }
  int64_t max_old_revision = 0;
  for (const json& rs : r.old_rss) max_old_revision = std::max(max_old_revision, Revision(rs));
  const std::string next_revision = std::to_string(max_old_revision + 1);
  if (!r.new_rs) {
    if (!create) return absl::OkStatus();
    RETURN_IF_ERROR(CreateNewReplicaSet(r));
  } else if (Revision(*r.new_rs) < max_old_revision + 1) {
    // A template rolled back to an old ReplicaSet's: it becomes the newest revision.
    json patch = {{"metadata",
                   {{"annotations", {{kRevisionAnnotation, next_revision}}},
                    {"resourceVersion", ResourceVersionOf(*r.new_rs)}}}};
    auto updated = client_->Patch(resources::kReplicaSets, NamespaceOf(*r.new_rs), NameOf(*r.new_rs),
                                  client::PatchType::kMerge, patch);
    if (!updated.ok()) {
      return absl::Status(updated.status().code(), absl::StrCat("set revision ", next_revision, " on ReplicaSet ",
                                                                KeyOf(*r.new_rs), ": ", updated.status().message()));
    }
    r.new_rs = std::move(*updated);
  }
  const std::string revision = std::to_string(Revision(*r.new_rs));
  if (Annotation(r.d, kRevisionAnnotation) != revision) {
    json patch = {{"metadata", {{"annotations", {{kRevisionAnnotation, revision}}}}}};
    auto updated = client_->Patch(resources::kDeployments, NamespaceOf(r.d), NameOf(r.d), client::PatchType::kMerge,
                                  patch);
    if (!updated.ok()) {
      return absl::Status(updated.status().code(), absl::StrCat("set revision ", revision, " on Deployment ", r.Key(),
                                                                ": ", updated.status().message()));
    }
    // Keep the status this sync read (the write below compares with it).
    json status = r.d.value("status", json::object());
    r.d = std::move(*updated);
    r.d["status"] = std::move(status);
  }
  return absl::OkStatus();
}

absl::Status DeploymentController::CreateNewReplicaSet(Rollout& r) {
  const int32_t collisions = StatusInt(r.d, "collisionCount");
  const json& tmpl = r.d["spec"]["template"];
  const std::string hash = PodTemplateHash(tmpl, collisions);
  int64_t max_old_revision = 0;
  for (const json& rs : r.old_rss) max_old_revision = std::max(max_old_revision, Revision(rs));

  json rs_template = tmpl;
  rs_template["metadata"]["labels"][kPodTemplateHashLabel] = hash;
  json selector = r.d["spec"]["selector"];
  selector["matchLabels"][kPodTemplateHashLabel] = hash;
  json annotations = json::object();
  const json d_annotations = r.d["metadata"].value("annotations", json::object());
  for (const auto& [k, v] : d_annotations.items()) {
    if (CopiedAnnotation(k)) annotations[k] = v;
  }
  annotations[kRevisionAnnotation] = std::to_string(max_old_revision + 1);
  annotations[kDesiredReplicasAnnotation] = std::to_string(r.Replicas());
  annotations[kMaxReplicasAnnotation] = std::to_string(r.Replicas() + r.limits.max_surge);
  // Rolling: as many as the surge allows now; Recreate creates it only once
  // the old pods are gone, at full size.
  int32_t replicas = r.Recreate() ? r.Replicas()
                                  : NewReplicaSetReplicas(r.Replicas(), r.limits, ReplicaSetCounts{}, r.OldCounts());
  json labels = rs_template["metadata"]["labels"];
  json rs = {{"apiVersion", kApiVersion},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", absl::StrCat(NameOf(r.d), "-", hash)},
               {"namespace", NamespaceOf(r.d)},
               {"labels", labels},
               {"annotations", annotations},
               {"ownerReferences", json::array({NewControllerRef(r.d, kApiVersion, kKind)})}}},
             {"spec",
              {{"replicas", replicas},
               {"minReadySeconds", r.d["spec"].value("minReadySeconds", 0)},
               {"selector", selector},
               {"template", rs_template}}}};
  auto created = client_->Create(resources::kReplicaSets, NamespaceOf(r.d), rs);
  if (created.ok()) {
    BERTH_LOG(Info) << "created ReplicaSet" << Kv("deployment", r.Key()) << Kv("replicaset", NameOf(*created))
                    << Kv("replicas", replicas);
    r.new_rs = std::move(*created);
    r.new_rs_created = true;
    return absl::OkStatus();
  }
  if (!absl::IsAlreadyExists(created.status())) {
    return absl::Status(created.status().code(), absl::StrCat("create ReplicaSet for Deployment ", r.Key(), ": ",
                                                              created.status().message()));
  }
  // Ours and the same template (our informer is behind): use it.
  auto existing = client_->Get(resources::kReplicaSets, NamespaceOf(r.d), absl::StrCat(NameOf(r.d), "-", hash));
  if (existing.ok()) {
    std::optional<json> ref = ControllerRefOf(*existing);
    if (ref && ref->value("uid", "") == UidOf(r.d) && EqualIgnoringHash((*existing)["spec"]["template"], tmpl)) {
      r.new_rs = std::move(*existing);
      return absl::OkStatus();
    }
  }
  // A hash collision: count it, so the next sync hashes differently.
  json d = r.d;
  d["apiVersion"] = kApiVersion;  // objects from a list carry no kind
  d["kind"] = kKind;
  d["status"]["collisionCount"] = collisions + 1;
  auto written = client_->Update(resources::kDeployments, NamespaceOf(d), d, "status");
  if (!written.ok()) return written.status();
  return absl::AbortedError(absl::StrCat("Deployment ", r.Key(), ": ReplicaSet name ", NameOf(r.d), "-", hash,
                                         " taken by another template; collisionCount now ", collisions + 1));
}

absl::Status DeploymentController::ScaleReplicaSet(const Rollout& r, json& rs, int32_t replicas) {
  const std::string desired = std::to_string(r.Replicas());
  const std::string max = std::to_string(r.Replicas() + r.limits.max_surge);
  if (SpecReplicas(rs) == replicas && Annotation(rs, kDesiredReplicasAnnotation) == desired &&
      Annotation(rs, kMaxReplicasAnnotation) == max) {
    return absl::OkStatus();
  }
  json patch = {{"metadata",
                 {{"annotations", {{kDesiredReplicasAnnotation, desired}, {kMaxReplicasAnnotation, max}}},
                  {"resourceVersion", ResourceVersionOf(rs)}}},
                {"spec", {{"replicas", replicas}}}};
  auto scaled = client_->Patch(resources::kReplicaSets, NamespaceOf(rs), NameOf(rs), client::PatchType::kMerge, patch);
  if (!scaled.ok()) {
    return absl::Status(scaled.status().code(), absl::StrCat("scale ReplicaSet ", KeyOf(rs), " to ", replicas, ": ",
                                                             scaled.status().message()));
  }
  if (SpecReplicas(rs) != replicas) {
    BERTH_LOG(Info) << "scaled ReplicaSet" << Kv("deployment", r.Key()) << Kv("replicaset", NameOf(rs))
                    << Kv("from", SpecReplicas(rs)) << Kv("to", replicas);
  }
  rs = std::move(*scaled);
  return absl::OkStatus();
}

// kube's scale(): one active ReplicaSet (or none) takes spec.replicas; a
// saturated new one means the old ones go to 0; otherwise what the
// Deployment may run (replicas + maxSurge when rolling) minus what runs is
// shared out in proportion to each ReplicaSet's size, the rest to the largest.
absl::Status DeploymentController::ScaleProportionally(Rollout& r) {
  std::vector<json*> active;
  if (r.new_rs && SpecReplicas(*r.new_rs) > 0) active.push_back(&*r.new_rs);
  for (json& rs : r.old_rss) {
    if (SpecReplicas(rs) > 0) active.push_back(&rs);
  }
  if (active.empty()) {
    if (r.new_rs) return ScaleReplicaSet(r, *r.new_rs, r.Replicas());
    return absl::OkStatus();
  }
  if (active.size() == 1) return ScaleReplicaSet(r, *active[0], r.Replicas());
  if (r.new_rs && SpecReplicas(*r.new_rs) == r.Replicas() && StatusInt(*r.new_rs, "availableReplicas") >= r.Replicas()) {
    for (json& rs : r.old_rss) RETURN_IF_ERROR(ScaleReplicaSet(r, rs, 0));
    return absl::OkStatus();
  }
  int32_t current = 0;
  for (json* rs : active) current += SpecReplicas(*rs);
  int32_t allowed = r.Replicas() + (r.Recreate() ? 0 : r.limits.max_surge);
  int32_t to_add = allowed - current;
  if (to_add == 0) {
    for (json* rs : active) RETURN_IF_ERROR(ScaleReplicaSet(r, *rs, SpecReplicas(*rs)));  // annotations only
    return absl::OkStatus();
  }
  std::stable_sort(active.begin(), active.end(), [](json* a, json* b) { return SpecReplicas(*a) > SpecReplicas(*b); });
  std::vector<int32_t> next;
  int32_t given = 0;
  for (json* rs : active) {
    int32_t share = static_cast<int32_t>(static_cast<int64_t>(SpecReplicas(*rs)) * to_add / current);
    next.push_back(std::max(0, SpecReplicas(*rs) + share));
    given += next.back() - SpecReplicas(*rs);
  }
  next[0] = std::max(0, next[0] + (to_add - given));
  for (size_t i = 0; i < active.size(); ++i) RETURN_IF_ERROR(ScaleReplicaSet(r, *active[i], next[i]));
  return absl::OkStatus();
}

absl::Status DeploymentController::RolloutRolling(Rollout& r) {
  RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/true));
  ReplicaSetCounts new_counts = r.NewCounts();
  int32_t target = NewReplicaSetReplicas(r.Replicas(), r.limits, new_counts, r.OldCounts());
  if (target != new_counts.replicas) return ScaleReplicaSet(r, *r.new_rs, target);
  std::vector<int32_t> next = ScaleDownOldReplicaSets(r.Replicas(), r.limits, new_counts, r.OldCounts());
  bool scaled_down = false;
  for (size_t i = 0; i < r.old_rss.size(); ++i) {
    if (next[i] == SpecReplicas(r.old_rss[i])) continue;
    RETURN_IF_ERROR(ScaleReplicaSet(r, r.old_rss[i], next[i]));
    scaled_down = true;
  }
  if (scaled_down) return absl::OkStatus();
  if (RolloutComplete(r.Replicas(), r.NewCounts(), StatusInt(*r.new_rs, "replicas"), r.OldCounts())) {
    return CleanupHistory(r);
  }
  return absl::OkStatus();
}

absl::Status DeploymentController::RolloutRecreate(Rollout& r) {
  RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/false));
  bool scaled_down = false;
  for (json& rs : r.old_rss) {
    if (SpecReplicas(rs) == 0) continue;
    RETURN_IF_ERROR(ScaleReplicaSet(r, rs, 0));
    scaled_down = true;
  }
  if (scaled_down) return absl::OkStatus();
  // Wait until no pod of an old ReplicaSet is left running.
  std::set<std::string> old_uids;
  for (const json& rs : r.old_rss) old_uids.insert(UidOf(rs));
  for (const json& pod : InNamespace(pods_->List(), NamespaceOf(r.d))) {
    std::optional<json> ref = ControllerRefOf(pod);
    if (!ref || old_uids.count(ref->value("uid", "")) == 0) continue;
    std::string phase = pod.value("status", json::object()).value("phase", "");
    if (phase != "Succeeded" && phase != "Failed") return absl::OkStatus();
  }
  if (!r.new_rs) {
    RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/true));
  } else {
    RETURN_IF_ERROR(ScaleReplicaSet(r, *r.new_rs, r.Replicas()));
  }
  if (RolloutComplete(r.Replicas(), r.NewCounts(), StatusInt(*r.new_rs, "replicas"), r.OldCounts())) {
    return CleanupHistory(r);
  }
  return absl::OkStatus();
}

absl::Status DeploymentController::CleanupHistory(const Rollout& r) {
  if (!r.d["spec"].contains("revisionHistoryLimit")) return absl::OkStatus();
  int32_t limit = r.d["spec"].value("revisionHistoryLimit", 10);
  std::vector<const json*> idle;
  for (const json& rs : r.old_rss) {
    if (SpecReplicas(rs) == 0 && StatusInt(rs, "replicas") == 0 && !IsBeingDeleted(rs) &&
        StatusInt(rs, "observedGeneration") >= rs["metadata"].value("generation", 0)) {
      idle.push_back(&rs);
    }
  }
  if (static_cast<int32_t>(idle.size()) <= limit) return absl::OkStatus();
  std::stable_sort(idle.begin(), idle.end(), [](const json* a, const json* b) { return Revision(*a) < Revision(*b); });
  size_t surplus = idle.size() - static_cast<size_t>(limit);
  for (size_t i = 0; i < surplus; ++i) {
    client::DeleteOptions options;
    options.precondition_uid = UidOf(*idle[i]);
    auto deleted = client_->Delete(resources::kReplicaSets, NamespaceOf(*idle[i]), NameOf(*idle[i]), options);
    if (!deleted.ok() && !absl::IsNotFound(deleted.status())) {
      return absl::Status(deleted.status().code(), absl::StrCat("delete old ReplicaSet ", KeyOf(*idle[i]), ": ",
                                                                deleted.status().message()));
    }
    BERTH_LOG(Info) << "deleted old ReplicaSet past revisionHistoryLimit" << Kv("deployment", r.Key())
                    << Kv("replicaset", NameOf(*idle[i])) << Kv("revision", Revision(*idle[i]));
  }
  return absl::OkStatus();
}

absl::Status DeploymentController::SyncStatus(const Rollout& r) {
  const json old_status = r.d.value("status", json::object());
  json status = old_status;
  int32_t replicas = 0, ready = 0, available = 0, spec_total = 0;
  auto add = [&](const json& rs) {
    replicas += StatusInt(rs, "replicas");
    ready += StatusInt(rs, "readyReplicas");
    available += StatusInt(rs, "availableReplicas");
    spec_total += SpecReplicas(rs);
  };
  if (r.new_rs) add(*r.new_rs);
  for (const json& rs : r.old_rss) add(rs);
  const int32_t updated = r.new_rs ? StatusInt(*r.new_rs, "replicas") : 0;
  status["observedGeneration"] = r.d["metadata"].value("generation", int64_t{0});
  status["replicas"] = replicas;
  status["updatedReplicas"] = updated;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["unavailableReplicas"] = std::max(0, spec_total - available);

  const std::string now = FormatApiTime(absl::Now());
  json conditions = status.value("conditions", json::array());
  int32_t wanted = r.Replicas();
  if (available >= wanted - r.limits.max_unavailable) {
    SetCondition(conditions, Condition("Available", "True", "MinimumReplicasAvailable",
                                       "Deployment has minimum availability.", now), false);
  } else {
    SetCondition(conditions, Condition("Available", "False", "MinimumReplicasUnavailable",
                                       "Deployment does not have minimum availability.", now), false);
  }
  const std::string rs_name = r.new_rs ? NameOf(*r.new_rs) : "";
  const bool paused = r.d["spec"].value("paused", false);
  const bool complete = r.new_rs && updated == wanted && replicas == wanted && available == wanted;
  const bool progressed = old_status.value("replicas", 0) != replicas ||
                          old_status.value("updatedReplicas", 0) != updated ||
                          old_status.value("readyReplicas", 0) != ready ||
                          old_status.value("availableReplicas", 0) != available;
  const int64_t deadline = r.d["spec"].value("progressDeadlineSeconds", int64_t{600});
  if (paused) {
    SetCondition(conditions, Condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now), false);
  } else if (complete) {
    SetCondition(conditions, Condition("Progressing", "True", "NewReplicaSetAvailable",
                                       absl::StrCat("ReplicaSet \"", rs_name, "\" has successfully progressed."), now),
                 false);
  } else if (r.new_rs_created) {
    SetCondition(conditions, Condition("Progressing", "True", "NewReplicaSetCreated",
                                       absl::StrCat("Created new replica set \"", rs_name, "\""), now), true);
  } else if (const json* p = FindCondition(conditions, "Progressing");
             progressed || p == nullptr ||
             ((*p)["status"] != "True" && (*p).value("reason", "") != "ProgressDeadlineExceeded")) {
    // Progress (or a start, or a resume) sets it True; a deadline already
    // exceeded stays so until progress.
    if (r.new_rs) {
      SetCondition(conditions, Condition("Progressing", "True", "ReplicaSetUpdated",
                                         absl::StrCat("ReplicaSet \"", rs_name, "\" is progressing."), now),
                   progressed);
    }
  } else if (p != nullptr && (*p)["status"] == "True") {
    absl::Time last = ParseApiTime((*p).value("lastUpdateTime", json()));
    absl::Time due = last + absl::Seconds(deadline);
    if ((*p).value("reason", "") != "NewReplicaSetAvailable" && absl::Now() >= due) {
      SetCondition(conditions, Condition("Progressing", "False", "ProgressDeadlineExceeded",
                                         absl::StrCat("ReplicaSet \"", rs_name, "\" has timed out progressing."), now),
                   false);
    } else if ((*p).value("reason", "") != "NewReplicaSetAvailable") {
      queue_.AddAfter(r.Key(), due - absl::Now() + absl::Seconds(1));
    }
  }
  status["conditions"] = conditions;
  return UpdateStatusIfChanged(client_, resources::kDeployments, r.d, kApiVersion, kKind, std::move(status));
}

absl::Status DeploymentController::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  std::optional<json> d = deployments_->Get(ns, name);
  if (!d) return absl::OkStatus();
  Rollout r;
  r.d = std::move(*d);
  const json& strategy = r.d["spec"].value("strategy", json::object());
  const json& rolling = strategy.value("rollingUpdate", json::object());
  auto to_text = [](const json& v, const char* fallback) {
    return v.is_number() ? std::to_string(v.get<int64_t>()) : v.is_string() ? v.get<std::string>() : fallback;
  };
  auto surge = ParseIntOrPercent(to_text(rolling.value("maxSurge", json()), "25%"),
                                 "spec.strategy.rollingUpdate.maxSurge");
  auto unavailable = ParseIntOrPercent(to_text(rolling.value("maxUnavailable", json()), "25%"),
                                       "spec.strategy.rollingUpdate.maxUnavailable");
  if (!surge.ok() || !unavailable.ok()) {
    BERTH_LOG(Warning) << "Deployment has a bad rolling update strategy" << Kv("deployment", key)
                       << Kv("error", (!surge.ok() ? surge.status() : unavailable.status()).ToString());
    return absl::OkStatus();  // an update of the Deployment re-queues it
  }
  r.limits = r.Recreate() ? SurgeAndUnavailable{0, r.Replicas()}
                          : ResolveFenceposts(*surge, *unavailable, r.Replicas());
  auto owned = ClaimReplicaSets(r.d);
  if (!owned.ok()) {
    if (absl::IsInvalidArgument(owned.status())) {
      BERTH_LOG(Warning) << "Deployment has an invalid selector" << Kv("deployment", key)
                         << Kv("error", owned.status().ToString());
      return absl::OkStatus();
    }
    return owned.status();
  }
  r.rss = std::move(*owned);
  if (IsBeingDeleted(r.d)) {
    RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/false));
    return SyncStatus(r);
  }
  const bool paused = r.d["spec"].value("paused", false);
  bool scaling = false;
  if (!paused) {
    RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/false));
    // kube's isScalingEvent: an active ReplicaSet sized for another spec.replicas.
    std::vector<const json*> all;
    if (r.new_rs) all.push_back(&*r.new_rs);
    for (const json& rs : r.old_rss) all.push_back(&rs);
    for (const json* rs : all) {
      if (SpecReplicas(*rs) > 0 && Annotation(*rs, kDesiredReplicasAnnotation) != std::to_string(r.Replicas())) {
        scaling = true;
      }
    }
  }
  if (paused || scaling) {
    RETURN_IF_ERROR(FindNewReplicaSet(r, /*create=*/false));
    RETURN_IF_ERROR(ScaleProportionally(r));
    if (paused) RETURN_IF_ERROR(CleanupHistory(r));
    return SyncStatus(r);
  }
  RETURN_IF_ERROR(r.Recreate() ? RolloutRecreate(r) : RolloutRolling(r));
  return SyncStatus(r);
}

}  // namespace berth::controllers
