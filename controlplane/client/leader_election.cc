#include "controlplane/client/leader_election.h"

#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace berth::client {

using nlohmann::json;

namespace {

// metav1.MicroTime: RFC 3339 with microseconds.
std::string MicroTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone()); }

int64_t Seconds(absl::Duration d) { return absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))); }

}  // namespace

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(ApiClient* client,
                                                                     LeaderElectionOptions options,
                                                                     LeaderCallbacks callbacks) {
  if (options.lease_name.empty()) return absl::InvalidArgumentError("leader election: lease name: Required value");
  if (options.lease_namespace.empty()) {
    return absl::InvalidArgumentError("leader election: lease namespace: Required value");
  }
  if (options.identity.empty()) return absl::InvalidArgumentError("leader election: identity: Required value");
  if (options.lease_duration <= options.renew_deadline) {
    return absl::InvalidArgumentError(absl::StrCat("leader election: leaseDuration ",
                                                   absl::FormatDuration(options.lease_duration),
                                                   " must be greater than renewDeadline ",
                                                   absl::FormatDuration(options.renew_deadline)));
  }
  if (options.renew_deadline <= options.retry_period * 1.2) {
    return absl::InvalidArgumentError(absl::StrCat("leader election: renewDeadline ",
                                                   absl::FormatDuration(options.renew_deadline),
                                                   " must be greater than retryPeriod*1.2 (retryPeriod ",
                                                   absl::FormatDuration(options.retry_period), ")"));
  }
  if (options.retry_period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leader election: retryPeriod must be greater than zero");
  }
  return std::unique_ptr<LeaderElector>(new LeaderElector(client, std::move(options), std::move(callbacks)));
}

LeaderElector::LeaderElector(ApiClient* client, LeaderElectionOptions options, LeaderCallbacks callbacks)
    : client_(client), options_(std::move(options)), callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::DefaultIdentity() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::random_device random;
  return absl::StrFormat("%s_%08x%08x", host, random(), random());
}

void LeaderElector::Start() { thread_ = std::thread([this] { Run(); }); }

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

std::string LeaderElector::CurrentLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

void LeaderElector::ObserveHolder(const std::string& holder) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = holder != leader_;
    leader_ = holder;
  }
  if (changed && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
}

void LeaderElector::Run() {
  absl::Time last_renew = absl::InfinitePast();
  while (true) {
    bool held = TryAcquireOrRenew();
    absl::Time now = absl::Now();
    bool leading;
    {
      std::lock_guard<std::mutex> lock(mu_);
      leading = leading_;
    }
    if (held) {
      last_renew = now;
      if (!leading) {
        BERTH_LOG(Info) << "leader election: became leader" << Kv("lease", options_.lease_name)
                        << Kv("identity", options_.identity);
        {
          std::lock_guard<std::mutex> lock(mu_);
          leading_ = true;
        }
        if (callbacks_.on_started_leading) callbacks_.on_started_leading();
      }
    } else if (leading && now - last_renew > options_.renew_deadline) {
      BERTH_LOG(Warning) << "leader election: lost the lease (no renewal within the renew deadline)"
                         << Kv("lease", options_.lease_name) << Kv("identity", options_.identity);
      {
        std::lock_guard<std::mutex> lock(mu_);
        leading_ = false;
      }
      if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.retry_period), [&] { return stopping_; })) break;
  }
  bool was_leading;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_leading = leading_;
    leading_ = false;
  }
  if (was_leading) {
    if (options_.release_on_stop) Release();
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  absl::Time now = absl::Now();
  const std::string& ns = options_.lease_namespace;
  absl::StatusOr<json> lease = client_->Get(resources::kLeases, ns, options_.lease_name);
  if (!lease.ok() && lease.status().code() == absl::StatusCode::kNotFound) {
    json fresh = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.lease_name}, {"namespace", ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", Seconds(options_.lease_duration)},
                    {"acquireTime", MicroTime(now)},
                    {"renewTime", MicroTime(now)},
                    {"leaseTransitions", 0}}}};
    absl::StatusOr<json> created = client_->Create(resources::kLeases, ns, fresh);
    if (!created.ok()) {
      if (created.status().code() != absl::StatusCode::kAlreadyExists) {
        BERTH_LOG(Warning) << "leader election: create lease" << Kv("lease", options_.lease_name)
                           << Kv("error", created.status().ToString());
      }
      return false;
    }
    observed_version_ = created->value("metadata", json::object()).value("resourceVersion", "");
    observed_time_ = now;
    ObserveHolder(options_.identity);
    return true;
  }
  if (!lease.ok()) {
    BERTH_LOG(Warning) << "leader election: get lease" << Kv("lease", options_.lease_name)
                       << Kv("error", lease.status().ToString());
    return false;
  }
  const json& spec = lease->value("spec", json::object());
  std::string holder = spec.value("holderIdentity", "");
  std::string version = lease->value("metadata", json::object()).value("resourceVersion", "");
  if (version != observed_version_) {
    observed_version_ = version;
    observed_time_ = now;
  }
  ObserveHolder(holder);
  int64_t duration = spec.value("leaseDurationSeconds", static_cast<int64_t>(0));
  bool valid = now < observed_time_ + absl::Seconds(duration);
  if (!holder.empty() && holder != options_.identity && valid) return false;

  json updated = *lease;
  json& s = updated["spec"];
  if (holder != options_.identity) {
    s["acquireTime"] = MicroTime(now);
    s["leaseTransitions"] = spec.value("leaseTransitions", static_cast<int64_t>(0)) + (holder.empty() ? 0 : 1);
  }
  s["holderIdentity"] = options_.identity;
  s["leaseDurationSeconds"] = Seconds(options_.lease_duration);
  s["renewTime"] = MicroTime(now);
  absl::StatusOr<json> written = client_->Update(resources::kLeases, ns, updated);
  if (!written.ok()) {
    if (written.status().code() != absl::StatusCode::kAborted) {
      BERTH_LOG(Warning) << "leader election: update lease" << Kv("lease", options_.lease_name)
                         << Kv("error", written.status().ToString());
    }
    return false;
  }
  observed_version_ = written->value("metadata", json::object()).value("resourceVersion", "");
  observed_time_ = now;
  ObserveHolder(options_.identity);
  return true;
}

void LeaderElector::Release() {
  absl::StatusOr<json> lease = client_->Get(resources::kLeases, options_.lease_namespace, options_.lease_name);
  if (!lease.ok()) return;
  if (lease->value("spec", json::object()).value("holderIdentity", "") != options_.identity) return;
  json released = *lease;
  absl::Time now = absl::Now();
  released["spec"].erase("holderIdentity");
  released["spec"]["leaseDurationSeconds"] = 1;
  released["spec"]["acquireTime"] = MicroTime(now);
  released["spec"]["renewTime"] = MicroTime(now);
  absl::StatusOr<json> written = client_->Update(resources::kLeases, options_.lease_namespace, released);
  if (!written.ok()) {
    BERTH_LOG(Warning) << "leader election: release lease" << Kv("lease", options_.lease_name)
                       << Kv("error", written.status().ToString());
    return;
  }
  BERTH_LOG(Info) << "leader election: released" << Kv("lease", options_.lease_name)
                  << Kv("identity", options_.identity);
  ObserveHolder("");
}

}  // namespace berth::client
