// Which namespaces the container init gets anew (clone flags) and which the
// shim joins before clone, from spec.namespaces.
#pragma once

#include "absl/status/statusor.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

struct NamespacePlan {
  int clone_flags = 0;  // always has CLONE_NEWNS
  bool new_net = false;
  bool new_uts = false;
  bool new_pid = false;
};

// Listed with an empty path: new (clone flag). Listed with a path: joined
// with setns in the calling process now (for pid this affects only its
// children). Not listed: the shim's own (the host's), as in OCI. The mount
// namespace is always new; "user" is not supported.
absl::StatusOr<NamespacePlan> EnterNamespaces(const ContainerSpec& spec);

}  // namespace berth::shim
