// hostPath volumes: the path is used as it is; its `type` is checked (and
// for DirectoryOrCreate / FileOrCreate the path made) as the kubelet's
// hostPath plugin does, with its error messages:
//   ""                 no check
//   DirectoryOrCreate  mkdir -p with 0755 when missing, else must be a directory
//   Directory          must be a directory
//   FileOrCreate       an empty file with 0644 when missing (its parent must
//                      exist), else must be a file
//   File               must be a regular file
//   Socket, CharDevice, BlockDevice   must be one
#pragma once

#include <string>

#include "absl/status/status.h"
#include "api/k8s/volume.h"

namespace berth::agent::volume {

// Checks without changing anything: an unknown type or a relative path is an
// InvalidArgument naming `field` ("spec.volumes[0].hostPath.type").
absl::Status ValidateHostPath(const k8s::HostPathVolumeSource& source, const std::string& field);

// Checks the type, creating the path for the *OrCreate types.
absl::Status SetUpHostPath(const k8s::HostPathVolumeSource& source);

}  // namespace berth::agent::volume
