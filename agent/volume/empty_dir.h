// emptyDir volumes: a directory with mode 0777 under the pod's volume dir;
// medium "Memory" mounts a tmpfs there (size= the sizeLimit, else
// `default_size_bytes` when given), kept across SetUp calls. HugePages media
// are not supported yet. The tmpfs root keeps tmpfs's 1777. A disk
// emptyDir's sizeLimit is for eviction, not enforced here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "api/k8s/volume.h"

namespace berth::agent::volume {

absl::Status ValidateEmptyDir(const k8s::EmptyDirVolumeSource& source, const std::string& field);

absl::Status SetUpEmptyDir(const std::string& dir, const k8s::EmptyDirVolumeSource& source,
                           std::optional<int64_t> default_size_bytes);

}  // namespace berth::agent::volume
