// JobController (kube's job controller, without pod tracking finalizers):
// runs a Job's pods from its template (generateName "<job>-", a controller
// reference, the job-name and controller-uid labels), as many as
// job_math's DecideJob wants active from completions, parallelism and the
// pods that succeeded or failed; a failed pod is replaced after
// PodFailureBackoff; the Job ends Complete (completionTime) or Failed
// (BackoffLimitExceeded, DeadlineExceeded at activeDeadlineSeconds), its
// active pods deleted; ttlSecondsAfterFinished deletes a finished Job (the
// garbage collector then takes its pods). Status: active, ready,
// succeeded, failed (never below what it counted before, since pods may be
// deleted), startTime, conditions.
#pragma once

#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/expectations.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

class JobController : public Controller {
 public:
  // The informers (Jobs and Pods, all namespaces) must outlive it.
  JobController(client::ApiClient* client, client::Informer* jobs, client::Informer* pods);

  std::string Name() const override { return "job"; }
  absl::Status Sync(const std::string& key) override;

 private:
  std::string OwnerKey(const nlohmann::json& pod) const;
  absl::Status CreatePods(const nlohmann::json& job, int32_t count);
  absl::Status DeletePods(const std::string& key, const std::vector<nlohmann::json>& pods);

  client::ApiClient* client_;
  client::Informer* jobs_;
  client::Informer* pods_;
  Expectations expectations_;
};

}  // namespace berth::controllers
