// emptyDir volumes: a directory with mode 0777 under the pod's volume dir;
// medium "Memory" mounts a tmpfs there of `tmpfs_size_bytes` (the caller's
// choice; see MemoryEmptyDirSize) or else the sizeLimit, kept across SetUp
// calls. The tmpfs root keeps tmpfs's 1777. HugePages media are not supported
// yet. A disk emptyDir's sizeLimit is for eviction, not enforced here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "api/k8s/pod.h"
#include "api/k8s/volume.h"

namespace berth::agent::volume {

absl::Status ValidateEmptyDir(const k8s::EmptyDirVolumeSource& source, const std::string& field);

// The kubelet's tmpfs size for a Memory emptyDir: the smallest positive of
// the node's allocatable memory, the pod's memory limit (when every container
// declares one) and the volume's sizeLimit.
int64_t MemoryEmptyDirSize(const k8s::EmptyDirVolumeSource& source, const k8s::Pod& pod, int64_t node_memory_bytes);

absl::Status SetUpEmptyDir(const std::string& dir, const k8s::EmptyDirVolumeSource& source,
                           std::optional<int64_t> tmpfs_size_bytes);

}  // namespace berth::agent::volume
