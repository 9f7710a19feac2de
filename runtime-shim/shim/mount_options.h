// Turning a MountSpec's option strings into mount(2) flags, propagation and data.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::shim {

struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, ...
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC)
  std::string data;               // comma-joined options the filesystem parses ("mode=755")
  bool bind() const;
  bool readonly() const;
};

// Parses "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
// "bind", "rbind", "(r)private", "(r)slave", "(r)shared", "(r)unbindable",
// "relatime", "noatime", "nodiratime", "strictatime", "sync", "dirsync",
// "mand"; anything else with '=' (or unknown words) goes into data, as runc
// does. A "bind" type counts as a bind mount.
MountOptions ParseMountOptions(const std::vector<std::string>& options,
                               const std::string& type = "");

}  // namespace berth::shim
