#include "controlplane/controllers/job_math.h"

#include <algorithm>

namespace berth::controllers {

JobDecision DecideJob(const JobSpecCounts& spec, const JobStatusCounts& status, absl::Time now) {
  JobDecision d;
  if (status.failed > spec.backoff_limit) {
    d.finished = "Failed";
    d.reason = "BackoffLimitExceeded";
    return d;
  }
  if (spec.active_deadline_seconds && status.start_time &&
      now - *status.start_time >= absl::Seconds(*spec.active_deadline_seconds)) {
    d.finished = "Failed";
    d.reason = "DeadlineExceeded";
    return d;
  }
  int32_t parallelism = std::max(0, spec.parallelism);
  if (spec.completions) {
    if (status.succeeded >= *spec.completions) {
      d.finished = "Complete";
      return d;
    }
    d.want_active = std::min(parallelism, *spec.completions - status.succeeded);
    return d;
  }
  // A work queue: once one pod succeeded no new ones start, and the Job is
  // complete when the rest have finished.
  if (status.succeeded > 0) {
    if (status.active == 0) {
      d.finished = "Complete";
      return d;
    }
    d.want_active = std::min(status.active, parallelism);
    return d;
  }
  d.want_active = parallelism;
  return d;
}

absl::Duration PodFailureBackoff(int32_t failures) {
  if (failures <= 0) return absl::ZeroDuration();
  absl::Duration delay = absl::Seconds(10);
  for (int32_t i = 1; i < failures && delay < absl::Minutes(6); ++i) delay *= 2;
  return std::min(delay, absl::Minutes(6));
}

std::optional<absl::Time> TtlDeletionTime(const JobSpecCounts& spec, absl::Time finished_at) {
  if (!spec.ttl_seconds_after_finished) return std::nullopt;
  return finished_at + absl::Seconds(*spec.ttl_seconds_after_finished);
}

}  // namespace berth::controllers
