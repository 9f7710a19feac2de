// Device ids the plugin advertises: a GPU's UUID, or "<uuid>::<n>" for
// replica n of a time-sliced GPU.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

namespace berth::gpu {

std::string ReplicaId(absl::string_view uuid, int replica);

struct ParsedDeviceId {
  std::string uuid;
  int replica = -1;  // -1: the whole GPU
};

// "GPU-a::3" -> {GPU-a, 3}; "GPU-a" -> {GPU-a, -1}. A malformed replica
// suffix leaves the whole id as the uuid (it then matches no GPU).
ParsedDeviceId ParseDeviceId(absl::string_view id);

}  // namespace berth::gpu
