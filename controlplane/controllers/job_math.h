// The Job controller's decisions (kube-controller-manager's job controller):
// how many pods should be active, when the Job is Complete or Failed
// (BackoffLimitExceeded, DeadlineExceeded), the back-off before replacing a
// failed pod, and when ttlSecondsAfterFinished deletes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace berth::controllers {

struct JobSpecCounts {
  std::optional<int32_t> completions;  // unset: a work queue (done when one succeeds and none run)
  int32_t parallelism = 1;
  int32_t backoff_limit = 6;
  std::optional<int64_t> active_deadline_seconds;
  std::optional<int32_t> ttl_seconds_after_finished;
};

struct JobStatusCounts {
  int32_t active = 0;
  int32_t succeeded = 0;
  int32_t failed = 0;
  std::optional<absl::Time> start_time;
};

struct JobDecision {
  // "", "Complete" or "Failed"; with Failed the reason.
  std::string finished;
  std::string reason;  // BackoffLimitExceeded, DeadlineExceeded
  int32_t want_active = 0;  // pods that should be running (0 once finished)
};

JobDecision DecideJob(const JobSpecCounts& spec, const JobStatusCounts& status, absl::Time now);

// The delay before the next pod after `failures` failed ones: 10 s doubling,
// at most 6 minutes (kube's DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff).
absl::Duration PodFailureBackoff(int32_t failures);

// When a finished Job is deleted (nullopt: kept).
std::optional<absl::Time> TtlDeletionTime(const JobSpecCounts& spec, absl::Time finished_at);

}  // namespace berth::controllers
