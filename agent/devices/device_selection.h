// Which devices a container gets: pure, so the rules are unit-tested apart
// from gRPC. The manager asks the plugin's GetPreferredAllocation first (when
// it offers one) and passes its answer here as `preferred`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::agent::devices {

struct SelectionRequest {
  std::string resource;
  // Healthy devices nobody holds (sorted, distinct), and devices this pod's
  // init containers held that this container may take over.
  std::vector<std::string> available;
  std::vector<std::string> must_include;
  int64_t needed = 0;
  // The plugin's preference (may be empty, partial or wrong: ids that are not
  // available are skipped).
  std::vector<std::string> preferred;
};

// `needed` distinct devices: must_include first, then the preferred ones that
// are available, then the first free ones in `available` order. Not enough
// devices is ResourceExhausted with the kubelet's message ("requested number
// of devices unavailable for <resource>. Requested: N, Available: M").
absl::StatusOr<std::vector<std::string>> SelectDevices(const SelectionRequest& request);

}  // namespace berth::agent::devices
