// Linux capabilities for containers: the CRI add/drop arithmetic (runtime
// side) and applying a set in the container's init before exec (shim side).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// The default set a container gets, as containerd gives it: CAP_CHOWN,
// CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
// CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
// CAP_KILL, CAP_AUDIT_WRITE.
std::vector<std::string> DefaultCapabilities();

// Every capability this kernel knows ("CAP_CHOWN", ...).
std::vector<std::string> AllCapabilities();

struct CapabilityResult {
  std::vector<std::string> capabilities;  // canonical "CAP_X" names, sorted, unique
  std::vector<std::string> unavailable;   // asked for, but not in this process's bounding set
};

// The container's set from the CRI security context: the default set (or all
// when privileged), plus `add`, minus `drop`; "ALL" in add / drop means every
// capability. Names are accepted with or without "CAP_" in any case. An
// unknown name is InvalidArgument naming `field` and the value. Capabilities
// missing from this process's bounding set (CAP_SYS_RESOURCE on some hosts)
// are removed and listed in `unavailable` so the caller can log them.
absl::StatusOr<CapabilityResult> ComputeCapabilities(const std::vector<std::string>& add,
                                                     const std::vector<std::string>& drop,
                                                     bool privileged);

// In the container's init, just before exec: switch to uid/gid/groups keeping
// capabilities across the switch, then make the bounding, permitted,
// effective and inheritable sets exactly `capabilities` (ambient cleared).
absl::Status SetUserAndCapabilities(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                                    const std::vector<std::string>& capabilities);

}  // namespace berth
