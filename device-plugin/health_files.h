// Health files: an operator's (or a test's) way to mark GPUs unhealthy,
// used with or without NVML. In the health dir (--health-dir, default
// /run/berth-gpu-plugin/health), a file named by a GPU's UUID or index:
//
//   "healthy"   the GPU is healthy (as if there were no file)
//   "xid <N>"   as if NVML had reported Xid N: unhealthy when N is critical
//               under --critical-xids/--ignored-xids, else ignored
//   anything else (empty, "unhealthy", a note) marks the GPU unhealthy.
//
// Removing the file (or writing "healthy") makes the GPU healthy again; the
// plugin watches the dir with inotify and re-sends ListAndWatch.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "device-plugin/device_state.h"
#include "device-plugin/xid_policy.h"

namespace berth::gpu {

struct HealthVerdict {
  bool healthy = true;
  std::string reason;
};

HealthVerdict ParseHealthFile(absl::string_view content, const XidPolicy& policy);

// Reads the dir and sets the kFile health of every GPU: the verdict of its
// UUID file, else of its index file, else healthy. A missing dir is all healthy.
void ApplyHealthFiles(const std::string& dir, const XidPolicy& policy, DeviceState* state);

}  // namespace berth::gpu
