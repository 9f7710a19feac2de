#include "agent/pod/pod_cgroups.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/pod/cri_config.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

std::string Join(const std::string& parent, const std::string& child) {
  if (parent.empty() || parent == "/") return "/" + child;
  return absl::StrCat(parent, "/", child);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string TierOf(const PodCgroupsOptions& o, const std::string& qos_class) {
  if (!o.per_qos) return o.root.empty() ? "/" : o.root;
  std::string kubepods = Join(o.root, "kubepods");
  if (qos_class == "Burstable") return kubepods + "/burstable";
  if (qos_class == "BestEffort") return kubepods + "/besteffort";
  return kubepods;
}

}  // namespace

std::string PodCgroupName(const PodCgroupsOptions& options, const std::string& qos_class, const std::string& uid) {
  return Join(TierOf(options, qos_class), "pod" + uid);
}

PodCgroups::PodCgroups(CgroupManager* manager, PodCgroupsOptions options)
    : manager_(manager), options_(std::move(options)) {}

absl::Status PodCgroups::EnsureTiers() {
  if (!options_.per_qos) return absl::OkStatus();
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    CgroupResources resources;
    if (std::string(qos) == "BestEffort") resources.cpu_shares = 2;
    std::string name = TierOf(options_, qos);
    RETURN_IF_ERROR(Annotate(manager_->Create(name, resources), absl::StrCat("create the QoS cgroup ", name)));
  }
  return absl::OkStatus();
}

std::string PodCgroups::NameFor(const k8s::Pod& pod) const {
  return PodCgroupName(options_, QosClass(pod), pod.metadata.uid);
}

absl::Status PodCgroups::Create(const k8s::Pod& pod) {
  CgroupResources resources;
  if (options_.pids_limit > 0) resources.pids_limit = options_.pids_limit;
  std::string name = NameFor(pod);
  return Annotate(manager_->Create(name, resources), absl::StrCat("create the pod cgroup ", name));
}

absl::Status PodCgroups::Destroy(const std::string& uid) {
  absl::Status first;
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    std::string name = PodCgroupName(options_, qos, uid);
    absl::Status st = manager_->Destroy(name);
    if (!st.ok() && first.ok()) first = Annotate(st, absl::StrCat("remove the pod cgroup ", name));
    if (!options_.per_qos) break;
  }
  return first;
}

absl::StatusOr<std::set<std::string>> PodCgroups::ListPodUids() const {
  std::set<std::string> uids;
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    std::string tier = TierOf(options_, qos);
    std::string dir = manager_->MemoryDir(tier);
    if (!PathExists(dir)) continue;  // no tier yet: no pods in it
    absl::StatusOr<std::vector<std::string>> names = ListDir(dir);
    if (!names.ok()) return Annotate(names.status(), absl::StrCat("list the pod cgroups of ", tier));
    for (const std::string& name : *names) {
      if (name.size() > 3 && absl::StartsWith(name, "pod") && name[3] != '-' && IsDirectory(dir + "/" + name)) {
        uids.insert(name.substr(3));
      }
    }
    if (!options_.per_qos) break;
  }
  return uids;
}

}  // namespace berth::agent
