// Pod namespaces without a pause process: a short-lived thread unshares the
// namespaces the pod owns, prepares them (hostname, loopback up, sysctls), and
// bind-mounts /proc/thread-self/ns/<type> onto files under the sandbox's run
// dir, so they outlive the thread and any container.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

struct PinRequest {
  std::string dir;                // e.g. /run/berth/sandboxes/<id>/ns
  bool net = true;                // false: the host's (NODE)
  bool ipc = true;
  bool uts = true;
  std::string hostname;           // set in the new uts namespace
  std::map<std::string, std::string> sysctls;  // "net.ipv4.ip_forward" -> "1"
};

// Paths of the pinned namespaces, by type ("net", "ipc", "uts").
using PinnedNamespaces = std::map<std::string, std::string>;

// Creates and pins the namespaces. On failure nothing stays pinned.
absl::StatusOr<PinnedNamespaces> PinNamespaces(const PinRequest& request);

// Unmounts and removes every pin file in `dir` (missing is fine), then `dir`.
absl::Status UnpinNamespaces(const std::string& dir);

// Whether `path` is a pinned namespace (a nsfs mount), e.g. after a reboot
// it is a plain empty file or gone.
bool IsPinnedNamespace(const std::string& path);

// Whether sysctl `name` is namespaced by net or ipc (the only ones a pod may set).
absl::Status ValidatePodSysctl(const std::string& name, bool host_net, bool host_ipc);

}  // namespace berth
