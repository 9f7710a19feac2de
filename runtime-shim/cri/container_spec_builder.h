// Turns a CRI CreateContainer request (container config, its sandbox, the
// image) into the ContainerSpec the shim runs, the way containerd's CRI
// plugin builds an OCI spec: command/args merged with the image's
// entrypoint/cmd, env merged over the image's, user resolved in the image,
// capabilities, seccomp, masked paths, mounts (sandbox files included).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/cri/api.pb.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth {

struct SpecInputs {
  const ::runtime::v1::ContainerConfig* config = nullptr;
  const ::runtime::v1::PodSandboxConfig* sandbox_config = nullptr;
  const image::Image* image = nullptr;
  std::vector<std::string> lower_dirs;  // image layers, top-most first
  std::string bundle;                   // the container's bundle dir
  std::map<std::string, std::string> sandbox_namespaces;  // "net"/"ipc"/"uts" -> pinned path
  std::string pid_namespace;            // pod's (POD mode) or target's (TARGET mode) pid ns path
  std::string sandbox_files_dir;        // holds hosts, resolv.conf, hostname
  std::string sandbox_shm_dir;          // the pod's /dev/shm ("" for host ipc)
  std::vector<std::string> cgroup_dirs;
  std::string memory_cgroup_dir;
  std::string log_path;                 // absolute, or empty
  int min_oom_score_adj = -1000;        // the lowest this host lets us set
};

struct BuiltSpec {
  ContainerSpec spec;
  std::string seccomp_profile;            // OCI JSON to write to <bundle>/seccomp.json; empty: none
  std::vector<std::string> warnings;      // e.g. capabilities that could not be granted
};

absl::StatusOr<BuiltSpec> BuildContainerSpec(const SpecInputs& in);

// The process arguments: command + args, falling back to the image's
// entrypoint and cmd as Kubernetes defines. InvalidArgument when empty.
absl::StatusOr<std::vector<std::string>> MergeCommand(const ::runtime::v1::ContainerConfig& config,
                                                      const image::Image& image);

// "KEY=v" list: the image's env, overridden key by key by the config's.
std::vector<std::string> MergeEnv(const ::runtime::v1::ContainerConfig& config, const image::Image& image);

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

// Resolves "name", "uid", "name:group", "uid:gid" against /etc/passwd and
// /etc/group found in `lower_dirs` (top-most first). A numeric uid not in
// passwd gets gid 0 (as runc does); an unknown name is NotFound.
absl::StatusOr<ResolvedUser> ResolveImageUser(const std::vector<std::string>& lower_dirs,
                                              const std::string& user);

}  // namespace berth
