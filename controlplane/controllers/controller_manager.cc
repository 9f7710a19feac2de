#include "controlplane/controllers/controller_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/controllers/deployment_controller.h"
#include "controlplane/controllers/garbage_collector_controller.h"
#include "controlplane/controllers/job_controller.h"
#include "controlplane/controllers/replicaset_controller.h"

namespace berth::controllers {

namespace resources = client::resources;

const std::set<std::string>& KnownControllers() {
  static const std::set<std::string> known = {"replicaset", "deployment", "garbagecollector", "job"};
  return known;
}

client::Informer* InformerSet::For(const client::ResourceRef& ref) {
  std::string key = absl::StrCat(ref.group, "/", ref.version, "/", ref.resource);
  std::unique_ptr<client::Informer>& informer = informers_[key];
  if (!informer) informer = std::make_unique<client::Informer>(client_, ref);
  return informer.get();
}

void InformerSet::StartAll() {
  for (auto& [name, informer] : informers_) informer->Start();
}

bool InformerSet::WaitForSync(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (auto& [name, informer] : informers_) {
    if (!informer->WaitForSync(std::max(absl::ZeroDuration(), deadline - absl::Now()))) return false;
  }
  return true;
}

void InformerSet::StopAll() {
  for (auto& [name, informer] : informers_) informer->Stop();
}

absl::StatusOr<std::unique_ptr<ControllerManager>> ControllerManager::Start(client::ApiClient* client,
                                                                            ControllerManagerOptions options) {
  for (const std::string& name : options.controllers) {
    if (KnownControllers().count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--controllers: unknown controller \"", name,
                                                     "\" (known: ", absl::StrJoin(KnownControllers(), ", "), ")"));
    }
  }
  if (options.identity.empty()) options.identity = client::LeaderElector::DefaultIdentity();
  if (options.workers_per_controller < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("controller manager: workers per controller ", options.workers_per_controller, " is below 1"));
  }
  std::unique_ptr<ControllerManager> manager(new ControllerManager(client, std::move(options)));
  const ControllerManagerOptions& o = manager->options_;
  client::LeaderElectionOptions election;
  election.lease_namespace = o.lease_namespace;
  election.lease_name = o.lease_name;
  election.identity = o.identity;
  election.lease_duration = o.lease_duration;
  election.renew_deadline = o.renew_deadline;
  election.retry_period = o.retry_period;
  ControllerManager* self = manager.get();
  client::LeaderCallbacks callbacks;
  auto want = [self](bool leading) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->want_leading_ = leading;
    self->cv_.notify_all();
  };
  callbacks.on_started_leading = [want] { want(true); };
  callbacks.on_stopped_leading = [want] { want(false); };
  ASSIGN_OR_RETURN(manager->elector_, client::LeaderElector::Create(client, std::move(election), std::move(callbacks)));
  manager->thread_ = std::thread([self] { self->Loop(); });
  manager->elector_->Start();
  return manager;
}

ControllerManager::ControllerManager(client::ApiClient* client, ControllerManagerOptions options)
    : client_(client), options_(std::move(options)) {}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Stop() {
  if (elector_) elector_->Stop();  // releases the Lease when it held it
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool ControllerManager::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void ControllerManager::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || want_leading_ != running_; });
    bool start = !stopping_ && want_leading_ && !running_;
    bool end = running_ && (stopping_ || !want_leading_);
    if (!start && !end && stopping_) return;
    lock.unlock();
    if (start) StartTerm();
    if (end) EndTerm();
    lock.lock();
    running_ = start;
  }
}

void ControllerManager::StartTerm() {
  BERTH_LOG(Info) << "leading: starting controllers" << Kv("identity", options_.identity)
                  << Kv("controllers", absl::StrJoin(options_.controllers, ","));
  informers_ = std::make_unique<InformerSet>(client_);
  if (options_.controllers.count("replicaset") > 0) {
    controllers_.push_back(std::make_unique<ReplicaSetController>(client_, informers_->For(resources::kReplicaSets),
                                                                  informers_->For(resources::kPods)));
  }
  if (options_.controllers.count("deployment") > 0) {
    controllers_.push_back(std::make_unique<DeploymentController>(
        client_, informers_->For(resources::kDeployments), informers_->For(resources::kReplicaSets),
        informers_->For(resources::kPods)));
  }
  if (options_.controllers.count("job") > 0) {
    controllers_.push_back(
        std::make_unique<JobController>(client_, informers_->For(resources::kJobs), informers_->For(resources::kPods)));
  }
  if (options_.controllers.count("garbagecollector") > 0) {
    controllers_.push_back(std::make_unique<GarbageCollectorController>(
        client_, std::vector<GarbageCollectorController::Kind>{
                     {"apps/v1", "Deployment", resources::kDeployments, informers_->For(resources::kDeployments)},
                     {"apps/v1", "ReplicaSet", resources::kReplicaSets, informers_->For(resources::kReplicaSets)},
                     {"batch/v1", "Job", resources::kJobs, informers_->For(resources::kJobs)},
                     {"v1", "Pod", resources::kPods, informers_->For(resources::kPods)}}));
  }
  informers_->StartAll();
  // Keys queue up while the informers list; the workers start on full caches.
  while (!informers_->WaitForSync(absl::Seconds(10))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !want_leading_) break;
    BERTH_LOG(Warning) << "controller informers have not synced yet";
  }
  runner_ = std::make_unique<ControllerRunner>();
  for (auto& c : controllers_) runner_->Run(c.get(), options_.workers_per_controller);
}

void ControllerManager::EndTerm() {
  if (runner_) runner_->Stop();
  if (informers_) informers_->StopAll();
  runner_.reset();
  controllers_.clear();
  informers_.reset();
  BERTH_LOG(Info) << "stopped leading: controllers stopped" << Kv("identity", options_.identity);
}

}  // namespace berth::controllers
