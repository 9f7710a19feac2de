// VolumeManager: a pod's volumes on this node, under the kubelet's layout
//
//   <pods dir>/<uid>/volumes/kubernetes.io~empty-dir/<name>
//   <pods dir>/<uid>/volumes/kubernetes.io~downward-api/<name>
//   <pods dir>/<uid>/volume-subpaths/<volume>/<container>/<mount index>
//
// (hostPath volumes are used in place). SetUp(pod) checks every volume first
// (a bad one changes nothing), then makes them, applies fsGroup, and returns
// volume name -> host path; it is idempotent and refreshes downwardAPI files.
// MountsFor turns a container's volumeMounts into CRI mounts (subPath bind
// mounts made here). TearDown(uid) unmounts and removes everything the pod
// had, also when called again or after a crash; CleanupOrphans does that for
// every pod dir no longer wanted.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/volume/downward_api.h"
#include "api/cri/api.pb.h"
#include "api/k8s/pod.h"

namespace berth::agent::volume {

struct PodVolume {
  std::string host_path;
  std::string kind;        // "emptyDir", "hostPath", "downwardAPI"
  bool read_only = false;  // the volume itself is read-only (downwardAPI)
};

using PodVolumes = std::map<std::string, PodVolume>;

class VolumeManager {
 public:
  struct Options {
    std::string pods_dir;  // e.g. /var/lib/berth/pods
    // For resourceFieldRef limits a container does not set; FromHost(pods_dir) when unset.
    std::optional<NodeAllocatable> node;
  };

  explicit VolumeManager(Options options);

  absl::StatusOr<PodVolumes> SetUp(const k8s::Pod& pod);

  // `env`: the container's resolved environment, for subPathExpr.
  absl::StatusOr<std::vector<::runtime::v1::Mount>> MountsFor(const k8s::Pod& pod, const k8s::Container& container,
                                                              const PodVolumes& volumes,
                                                              const std::map<std::string, std::string>& env = {});

  // Unmounts everything under the pod's dir and removes its volumes,
  // volume-subpaths and plugins dirs, then the pod dir if nothing else is left.
  absl::Status TearDown(const std::string& pod_uid);

  // TearDown for every pod dir whose uid is not in `active`; returns those uids.
  absl::StatusOr<std::vector<std::string>> CleanupOrphans(const std::set<std::string>& active);

  std::string PodDir(const std::string& pod_uid) const;

 private:
  Options options_;
  NodeAllocatable node_;
};

}  // namespace berth::agent::volume
