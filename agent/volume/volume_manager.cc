#include "agent/volume/volume_manager.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/volume/atomic_dir_writer.h"
#include "agent/volume/empty_dir.h"
#include "agent/volume/fs_group.h"
#include "agent/volume/host_path.h"
#include "agent/volume/mount_table.h"
#include "agent/volume/subpath.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent::volume {
namespace {

namespace cri = ::runtime::v1;

constexpr char kEmptyDirPlugin[] = "kubernetes.io~empty-dir";
constexpr char kDownwardApiPlugin[] = "kubernetes.io~downward-api";

// What SetUp will do for one volume, worked out before anything changes.
struct Plan {
  const k8s::Volume* volume = nullptr;
  std::string kind;
  Payload payload;  // downwardAPI
};

absl::Status CheckUid(const std::string& uid) {
  if (uid.empty() || uid == "." || uid == ".." || uid.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("metadata.uid: Invalid value: \"", uid, "\": not usable as a directory name"));
  }
  return absl::OkStatus();
}

}  // namespace

VolumeManager::VolumeManager(Options options)
    : options_(std::move(options)), node_(options_.node.value_or(NodeAllocatable::FromHost(options_.pods_dir))) {}

std::string VolumeManager::PodDir(const std::string& pod_uid) const {
  return absl::StrCat(options_.pods_dir, "/", pod_uid);
}

absl::StatusOr<PodVolumes> VolumeManager::SetUp(const k8s::Pod& pod) {
  RETURN_IF_ERROR(CheckUid(pod.metadata.uid));
  // 1. Check everything.
  std::vector<Plan> plans;
  std::set<std::string> names;
  for (size_t i = 0; i < pod.spec.volumes.size(); ++i) {
    const k8s::Volume& v = pod.spec.volumes[i];
    std::string field = absl::StrCat("spec.volumes[", i, "]");
    if (v.name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".name: Required value"));
    if (v.name.find('/') != std::string::npos || v.name == "." || v.name == "..") {
      return absl::InvalidArgumentError(absl::StrCat(field, ".name: Invalid value: \"", v.name, "\""));
    }
    if (!names.insert(v.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".name: Duplicate value: \"", v.name, "\""));
    }
    if (v.SourceCount() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": Invalid value: exactly one volume source must be set, found ", v.SourceCount()));
    }
    Plan plan{&v, "", {}};
    if (v.emptyDir) {
      RETURN_IF_ERROR(ValidateEmptyDir(*v.emptyDir, field + ".emptyDir"));
      plan.kind = "emptyDir";
    } else if (v.hostPath) {
      RETURN_IF_ERROR(ValidateHostPath(*v.hostPath, field + ".hostPath"));
      plan.kind = "hostPath";
    } else if (auto it = v.otherSources.fields.find("downwardAPI"); it != v.otherSources.fields.end()) {
      ASSIGN_OR_RETURN(plan.payload, DownwardApiPayload(it->second, pod, node_, field + ".downwardAPI"));
      plan.kind = "downwardAPI";
    } else {
      std::string source = v.configMap ? "configMap"
                           : v.secret  ? "secret"
                           : v.projected ? "projected"
                           : v.otherSources.fields.empty() ? "?" : v.otherSources.fields.begin()->first;
      return absl::UnimplementedError(
          absl::StrCat(field, ": volume source \"", source, "\" of volume \"", v.name, "\" is not supported yet"));
    }
    plans.push_back(std::move(plan));
  }

  // 2. Make them.
  const std::string pod_dir = PodDir(pod.metadata.uid);
  RETURN_IF_ERROR(MkdirAll(absl::StrCat(pod_dir, "/volumes"), 0750));
  std::optional<int64_t> fs_group;
  std::optional<std::string> change_policy;
  if (pod.spec.securityContext) {
    fs_group = pod.spec.securityContext->fsGroup;
    change_policy = pod.spec.securityContext->fsGroupChangePolicy;
  }
  PodVolumes out;
  for (const auto& plan : plans) {
    const k8s::Volume& v = *plan.volume;
    PodVolume pv;
    pv.kind = plan.kind;
    if (plan.kind == "hostPath") {
      absl::Status st = SetUpHostPath(*v.hostPath);
      if (!st.ok()) return Annotate(st, absl::StrCat("volume \"", v.name, "\""));
      pv.host_path = v.hostPath->path;
    } else if (plan.kind == "emptyDir") {
      pv.host_path = absl::StrCat(pod_dir, "/volumes/", kEmptyDirPlugin, "/", v.name);
      std::optional<int64_t> size;
      if (v.emptyDir->medium == "Memory") size = MemoryEmptyDirSize(*v.emptyDir, pod, node_.memory_bytes);
      absl::Status st = SetUpEmptyDir(pv.host_path, *v.emptyDir, size);
      if (st.ok() && fs_group) st = SetVolumeOwnership(pv.host_path, static_cast<gid_t>(*fs_group), false, change_policy);
      if (!st.ok()) return Annotate(st, absl::StrCat("volume \"", v.name, "\""));
    } else {
      pv.host_path = absl::StrCat(pod_dir, "/volumes/", kDownwardApiPlugin, "/", v.name);
      pv.read_only = true;
      auto changed = WriteAtomicDir(pv.host_path, plan.payload);
      absl::Status st = changed.status();
      if (st.ok() && fs_group) st = SetVolumeOwnership(pv.host_path, static_cast<gid_t>(*fs_group), true, change_policy);
      if (!st.ok()) return Annotate(st, absl::StrCat("volume \"", v.name, "\""));
    }
    out[v.name] = std::move(pv);
  }
  return out;
}

absl::StatusOr<std::vector<cri::Mount>> VolumeManager::MountsFor(const k8s::Pod& pod, const k8s::Container& container,
                                                                 const PodVolumes& volumes,
                                                                 const std::map<std::string, std::string>& env) {
  RETURN_IF_ERROR(CheckUid(pod.metadata.uid));
  std::vector<cri::Mount> mounts;
  bool privileged = container.securityContext && container.securityContext->privileged.value_or(false);
  for (size_t i = 0; i < container.volumeMounts.size(); ++i) {
    const k8s::VolumeMount& m = container.volumeMounts[i];
    std::string field = absl::StrCat("container \"", container.name, "\": volumeMounts[", i, "]");
    auto it = volumes.find(m.name);
    if (it == volumes.end()) {
      return absl::NotFoundError(absl::StrCat(field, ".name: Not found: \"", m.name, "\" (no such volume is set up)"));
    }
    if (m.mountPath.empty() || m.mountPath[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".mountPath: Invalid value: \"", m.mountPath, "\": must be an absolute path"));
    }
    if (!m.subPath.empty() && !m.subPathExpr.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".subPathExpr: Invalid value: \"", m.subPathExpr,
                                                     "\": subPathExpr and subPath are mutually exclusive"));
    }
    std::string sub = m.subPath;
    std::string sub_field = field + ".subPath";
    if (!m.subPathExpr.empty()) {
      sub = ExpandSubPathExpr(m.subPathExpr, env);
      sub_field = field + ".subPathExpr";
    }
    RETURN_IF_ERROR(ValidateSubPath(sub, sub_field));

    cri::Mount out;
    out.set_container_path(m.mountPath);
    out.set_host_path(it->second.host_path);
    out.set_readonly(m.readOnly || it->second.read_only);
    std::string prop = m.mountPropagation.value_or("None");
    if (prop == "None") {
      out.set_propagation(cri::PROPAGATION_PRIVATE);
    } else if (prop == "HostToContainer") {
      out.set_propagation(cri::PROPAGATION_HOST_TO_CONTAINER);
    } else if (prop == "Bidirectional") {
      if (!privileged) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"));
      }
      out.set_propagation(cri::PROPAGATION_BIDIRECTIONAL);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(field, ".mountPropagation: Unsupported value: \"", prop,
                                                     "\": supported values: \"Bidirectional\", \"HostToContainer\", \"None\""));
    }
    std::string rro = m.recursiveReadOnly.value_or("Disabled");
    if (rro == "Enabled" || rro == "IfPossible") {
      if (!m.readOnly || prop != "None") {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".recursiveReadOnly: Forbidden: may only be set for a readOnly mount with mountPropagation None"));
      }
      out.set_recursive_read_only(true);
    } else if (rro != "Disabled") {
      return absl::InvalidArgumentError(absl::StrCat(field, ".recursiveReadOnly: Unsupported value: \"", rro, "\""));
    }
    if (!sub.empty()) {
      std::string target = absl::StrCat(PodDir(pod.metadata.uid), "/volume-subpaths/", m.name, "/", container.name, "/", i);
      auto host = PrepareSubPath(it->second.host_path, sub, target);
      if (!host.ok()) return Annotate(host.status(), sub_field);
      out.set_host_path(*host);
    }
    mounts.push_back(std::move(out));
  }
  return mounts;
}

absl::Status VolumeManager::TearDown(const std::string& pod_uid) {
  RETURN_IF_ERROR(CheckUid(pod_uid));
  std::string pod_dir = PodDir(pod_uid);
  if (!PathExists(pod_dir)) return absl::OkStatus();
  char real[PATH_MAX];
  if (realpath(pod_dir.c_str(), real) == nullptr) return ErrnoError(absl::StrCat("resolve ", pod_dir));
  RETURN_IF_ERROR(UnmountUnder(real));
  for (const char* sub : {"volume-subpaths", "volumes", "plugins"}) {
    RETURN_IF_ERROR(RemoveAll(absl::StrCat(pod_dir, "/", sub)));
  }
  auto left = ListDir(pod_dir);
  if (left.ok() && left->empty() && rmdir(pod_dir.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("rmdir ", pod_dir));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> VolumeManager::CleanupOrphans(const std::set<std::string>& active) {
  std::vector<std::string> removed;
  if (!PathExists(options_.pods_dir)) return removed;
  ASSIGN_OR_RETURN(auto names, ListDir(options_.pods_dir));
  for (const auto& uid : names) {
    if (active.count(uid)) continue;
    absl::Status st = TearDown(uid);
    if (!st.ok()) {
      BERTH_LOG(Warning) << "cleaning up an orphaned pod's volumes" << Kv("uid", uid) << Kv("error", st.message());
      continue;
    }
    removed.push_back(uid);
  }
  return removed;
}

}  // namespace berth::agent::volume
