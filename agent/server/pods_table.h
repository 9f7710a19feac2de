// `berth-agent pods`: the table kubectl prints for pods (NAME READY STATUS
// RESTARTS AGE) from a v1 PodList, with kubectl's STATUS rules.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/k8s/pod.h"

namespace berth::agent {

// kubectl's STATUS column ("Running", "CrashLoopBackOff", "Init:0/2", "Completed", ...).
std::string PodStatusColumn(const k8s::Pod& pod);
// "5s", "3m12s", "2h", "4d" as kubectl's AGE column.
std::string HumanAge(absl::Duration d);
// The whole table (with a header) for a PodList JSON document.
absl::StatusOr<std::string> FormatPodsTable(const std::string& pod_list_json, absl::Time now);

}  // namespace berth::agent
