#include "controlplane/controllers/job_controller.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/controllers/claim.h"
#include "controlplane/controllers/job_math.h"
#include "controlplane/controllers/object_refs.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/replicaset_controller.h"

namespace berth::controllers {

using nlohmann::json;
namespace resources = client::resources;

namespace {

constexpr char kApiVersion[] = "batch/v1";
constexpr char kKind[] = "Job";

std::string Phase(const json& pod) { return pod.value("status", json::object()).value("phase", ""); }

bool HasTrueCondition(const json& job, const std::string& type) {
  for (const json& c : job.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

// When a failed pod finished: its containers' latest finishedAt, else its creation.
absl::Time FailedAt(const json& pod) {
  absl::Time at = ParseApiTime(pod["metadata"].value("creationTimestamp", json()));
  for (const json& cs : pod.value("status", json::object()).value("containerStatuses", json::array())) {
    absl::Time finished = ParseApiTime(cs.value("/state/terminated/finishedAt"_json_pointer, json()));
    at = std::max(at, finished);
  }
  return at;
}

JobSpecCounts SpecOf(const json& job) {
  const json& spec = job["spec"];
  JobSpecCounts s;
  if (spec.contains("completions") && spec["completions"].is_number()) s.completions = spec["completions"].get<int32_t>();
  s.parallelism = spec.value("parallelism", 1);
  s.backoff_limit = spec.value("backoffLimit", 6);
  if (spec.contains("activeDeadlineSeconds") && spec["activeDeadlineSeconds"].is_number()) {
    s.active_deadline_seconds = spec["activeDeadlineSeconds"].get<int64_t>();
  }
  if (spec.contains("ttlSecondsAfterFinished") && spec["ttlSecondsAfterFinished"].is_number()) {
    s.ttl_seconds_after_finished = spec["ttlSecondsAfterFinished"].get<int32_t>();
  }
  return s;
}

}  // namespace

JobController::JobController(client::ApiClient* client, client::Informer* jobs, client::Informer* pods)
    : client_(client), jobs_(jobs), pods_(pods) {
  client::InformerHandlers job_handlers;
  job_handlers.on_add = [this](const json& job) { queue_.Add(KeyOf(job)); };
  job_handlers.on_update = [this](const json&, const json& job) { queue_.Add(KeyOf(job)); };
  job_handlers.on_delete = [this](const json& job) { expectations_.Forget(KeyOf(job)); };
  jobs_->AddHandlers(std::move(job_handlers));
  client::InformerHandlers pod_handlers;
  pod_handlers.on_add = [this](const json& pod) {
    std::string owner = OwnerKey(pod);
    if (owner.empty()) return;
    expectations_.CreationObserved(owner);
    queue_.Add(owner);
  };
  pod_handlers.on_update = [this](const json&, const json& pod) {
    std::string owner = OwnerKey(pod);
    if (owner.empty()) return;
    if (IsBeingDeleted(pod)) expectations_.DeletionObserved(owner, UidOf(pod));
    queue_.Add(owner);
  };
  pod_handlers.on_delete = [this](const json& pod) {
    std::string owner = OwnerKey(pod);
    if (owner.empty()) return;
    expectations_.DeletionObserved(owner, UidOf(pod));
    queue_.Add(owner);
  };
  pods_->AddHandlers(std::move(pod_handlers));
}

std::string JobController::OwnerKey(const json& pod) const {
  std::optional<json> ref = ControllerRefOf(pod);
  if (!ref || ref->value("kind", "") != kKind) return "";
  std::optional<json> job = jobs_->Get(NamespaceOf(pod), ref->value("name", ""));
  if (!job || UidOf(*job) != ref->value("uid", "")) return "";
  return KeyOf(*job);
}

absl::Status JobController::CreatePods(const json& job, int32_t count) {
  const std::string key = KeyOf(job);
  json pod = PodFromTemplate(job["spec"]["template"], job, kApiVersion, kKind);
  json& labels = pod["metadata"]["labels"];
  if (!labels.is_object()) labels = json::object();
  labels["batch.kubernetes.io/job-name"] = NameOf(job);
  labels["job-name"] = NameOf(job);
  labels["batch.kubernetes.io/controller-uid"] = UidOf(job);
  labels["controller-uid"] = UidOf(job);
  expectations_.ExpectCreations(key, count);
  for (int32_t i = 0; i < count; ++i) {
    auto made = client_->Create(resources::kPods, NamespaceOf(job), pod);
    if (!made.ok()) {
      for (int32_t j = i; j < count; ++j) expectations_.CreationObserved(key);
      return absl::Status(made.status().code(), absl::StrCat("create pod for Job ", key, " (", i, " of ", count,
                                                             " created): ", made.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status JobController::DeletePods(const std::string& key, const std::vector<json>& pods) {
  std::set<std::string> uids;
  for (const json& pod : pods) uids.insert(UidOf(pod));
  expectations_.ExpectDeletions(key, uids);
  for (const json& pod : pods) {
    client::DeleteOptions options;
    options.precondition_uid = UidOf(pod);
    auto deleted = client_->Delete(resources::kPods, NamespaceOf(pod), NameOf(pod), options);
    if (!deleted.ok()) {
      expectations_.DeletionObserved(key, UidOf(pod));
      if (absl::IsNotFound(deleted.status())) continue;
      return absl::Status(deleted.status().code(), absl::StrCat("delete pod ", KeyOf(pod), " of Job ", key, ": ",
                                                                deleted.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status JobController::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  std::optional<json> job = jobs_->Get(ns, name);
  if (!job) {
    expectations_.Forget(key);
    return absl::OkStatus();
  }
  const absl::Time now = absl::Now();
  const JobSpecCounts spec = SpecOf(*job);
  json status = job->value("status", json::object());
  const bool finished = HasTrueCondition(*job, "Complete") || HasTrueCondition(*job, "Failed");
  if (finished) {
    absl::Time finished_at = ParseApiTime(status.value("completionTime", json()));
    for (const json& c : status.value("conditions", json::array())) {
      if (c.value("type", "") == "Failed") finished_at = ParseApiTime(c.value("lastTransitionTime", json()));
    }
    std::optional<absl::Time> ttl = TtlDeletionTime(spec, finished_at);
    if (!ttl) return absl::OkStatus();
    if (now < *ttl) {
      queue_.AddAfter(key, *ttl - now);
      return absl::OkStatus();
    }
    client::DeleteOptions options;
    options.precondition_uid = UidOf(*job);
    options.propagation_policy = "Background";
    auto deleted = client_->Delete(resources::kJobs, ns, name, options);
    if (!deleted.ok() && !absl::IsNotFound(deleted.status())) return deleted.status();
    BERTH_LOG(Info) << "deleted a finished Job after ttlSecondsAfterFinished" << Kv("job", key);
    return absl::OkStatus();
  }

  std::vector<json> active;
  int32_t succeeded = 0, failed = 0, ready = 0;
  absl::Time last_failure = absl::InfinitePast();
  for (json& pod : InNamespace(pods_->List(), ns)) {
    std::optional<json> ref = ControllerRefOf(pod);
    if (!ref || ref->value("uid", "") != UidOf(*job)) continue;
    std::string phase = Phase(pod);
    if (phase == "Succeeded") {
      ++succeeded;
    } else if (phase == "Failed") {
      ++failed;
      last_failure = std::max(last_failure, FailedAt(pod));
    } else if (IsPodActive(pod)) {
      if (IsPodReady(pod)) ++ready;
      active.push_back(std::move(pod));
    }
  }
  succeeded = std::max(succeeded, status.value("succeeded", 0));
  failed = std::max(failed, status.value("failed", 0));
  if (!status.contains("startTime")) status["startTime"] = FormatApiTime(now);
  JobStatusCounts counts{static_cast<int32_t>(active.size()), succeeded, failed,
                         ParseApiTime(status["startTime"])};
  JobDecision decision = DecideJob(spec, counts, now);

  absl::Status acted = absl::OkStatus();
  if (!decision.finished.empty()) {
    acted = DeletePods(key, active);
    active.clear();
    json conditions = status.value("conditions", json::array());
    json condition = {{"type", decision.finished},
                      {"status", "True"},
                      {"lastProbeTime", FormatApiTime(now)},
                      {"lastTransitionTime", FormatApiTime(now)}};
    if (decision.finished == "Failed") {
      condition["reason"] = decision.reason;
      condition["message"] = decision.reason == "DeadlineExceeded" ? "Job was active longer than specified deadline"
                                                                   : "Job has reached the specified backoff limit";
    } else {
      status["completionTime"] = FormatApiTime(now);
    }
    conditions.push_back(std::move(condition));
    status["conditions"] = std::move(conditions);
    BERTH_LOG(Info) << "Job finished" << Kv("job", key) << Kv("as", decision.finished)
                    << Kv("reason", decision.reason);
    if (spec.ttl_seconds_after_finished) queue_.AddAfter(key, absl::Seconds(*spec.ttl_seconds_after_finished));
  } else if (expectations_.Satisfied(key)) {
    int32_t diff = decision.want_active - static_cast<int32_t>(active.size());
    if (diff > 0) {
      absl::Time not_before = failed > 0 ? last_failure + PodFailureBackoff(failed) : absl::InfinitePast();
      if (now < not_before) {
        queue_.AddAfter(key, not_before - now);
      } else {
        acted = CreatePods(*job, diff);
      }
    } else if (diff < 0) {
      std::vector<PodForRanking> ranked;
      for (const json& pod : active) ranked.push_back(RankingOf(pod));
      ranked = DeletionOrder(std::move(ranked));
      std::vector<json> extra;
      for (int32_t i = 0; i < -diff; ++i) {
        for (const json& pod : active) {
          if (NameOf(pod) == ranked[i].name) extra.push_back(pod);
        }
      }
      acted = DeletePods(key, extra);
    }
    if (spec.active_deadline_seconds) {
      absl::Time deadline = counts.start_time.value() + absl::Seconds(*spec.active_deadline_seconds);
      queue_.AddAfter(key, deadline - now + absl::Milliseconds(100));
    }
  }
  status["active"] = static_cast<int32_t>(active.size());
  status["ready"] = decision.finished.empty() ? ready : 0;
  status["succeeded"] = succeeded;
  status["failed"] = failed;
  RETURN_IF_ERROR(UpdateStatusIfChanged(client_, resources::kJobs, *job, kApiVersion, kKind, std::move(status)));
  return acted;
}

}  // namespace berth::controllers
