// subPath mounts, resolved safely as the kubelet does: the subPath must be
// relative and free of "..", symlinks inside the volume are followed only
// while they stay inside it, a missing subPath is made as a directory (with
// the volume root's mode), and the resolved path is opened component by
// component without following links and bind-mounted from that descriptor
// onto <pod dir>/volume-subpaths/<volume>/<container>/<mount index>, so a
// link swapped in afterwards cannot redirect the container's mount.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::agent::volume {

// Checks a subPath (after $(VAR) expansion) without touching anything.
absl::Status ValidateSubPath(const std::string& sub_path, const std::string& field);

// Expands $(VAR) from `env` as the kubelet expands subPathExpr ($$ is a
// literal $, unknown variables stay as written).
std::string ExpandSubPathExpr(const std::string& expr, const std::map<std::string, std::string>& env);

// Resolves `sub_path` under `volume_path` (creating it when missing) and bind
// mounts it at `bind_target`; returns `bind_target`. Idempotent: a bind mount
// already at `bind_target` is kept when it shows the same file, else replaced.
absl::StatusOr<std::string> PrepareSubPath(const std::string& volume_path, const std::string& sub_path,
                                           const std::string& bind_target);

}  // namespace berth::agent::volume
