// The time-slicing config (--config FILE, YAML or JSON), in the shape of
// NVIDIA's device plugin config, extended so replicas can be set per GPU:
//
//   version: v1
//   sharing:
//     timeSlicing:
//       failRequestsGreaterThanOne: false   # optional
//       resources:
//       - name: nvidia.com/gpu
//         replicas: 4                       # every GPU not named below
//       - name: nvidia.com/gpu
//         replicas: 2
//         devices: [1, "GPU-8f6e..."]       # by index or UUID
//
// `devices` is "all" (the default), a count N (GPUs 0..N-1) or a list of
// indexes and UUIDs. A GPU with replicas N > 1 is advertised as N devices
// "<uuid>::0" .. "<uuid>::<N-1>".
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "device-plugin/gpu.h"

namespace berth::gpu {

struct SharingRule {
  std::string path;   // "sharing.timeSlicing.resources[1]", for errors
  int replicas = 1;
  enum class Devices { kAll, kCount, kList } devices = Devices::kAll;
  int count = 0;                       // kCount
  std::vector<std::string> selectors;  // kList: "3" (an index) or a UUID
};

struct SharingConfig {
  bool fail_requests_greater_than_one = false;
  std::vector<SharingRule> rules;
};

// Parses the file's text. Unknown keys, wrong types, replicas < 1 and
// resources for another resource name than `resource_name` are errors naming
// the key ("sharing.timeSlicing.resources[0].replicas: ..."). Empty text is
// an empty config (nothing shared).
absl::StatusOr<SharingConfig> ParseSharingConfig(absl::string_view text, const std::string& resource_name);

// Replicas per GPU (by position in `gpus`; 1 = not shared). A selector that
// names no GPU, or a GPU named by two rules, is an error naming the rule.
absl::StatusOr<std::vector<int>> ResolveReplicas(const SharingConfig& config, const std::vector<Gpu>& gpus);

}  // namespace berth::gpu
