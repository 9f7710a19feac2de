// fsGroup: the kubelet's SetVolumeOwnership for volumes that support it
// (emptyDir, downwardAPI). Every file and directory below the volume gets
// group `fs_group` (symlinks too, with lchown) and the group bits the volume
// needs: rw (0660, or 0440 for a read-only volume) on files, plus x and the
// setgid bit on directories, so that new files inherit the group. With
// fsGroupChangePolicy OnRootMismatch nothing is walked when the root already
// has the group and bits.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace berth::agent::volume {

absl::Status SetVolumeOwnership(const std::string& dir, gid_t fs_group, bool read_only,
                                const std::optional<std::string>& change_policy);

}  // namespace berth::agent::volume
