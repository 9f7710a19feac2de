// CRI stats: ContainerStats, ListContainerStats, PodSandboxStats,
// ListPodSandboxStats, from the cgroup files and the writable layer.
#include <ftw.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cri/runtime.h"

namespace berth {
namespace {

thread_local uint64_t walk_bytes;
thread_local uint64_t walk_inodes;

int CountEntry(const char*, const struct stat* st, int, struct FTW*) {
  walk_bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  walk_inodes += 1;
  return 0;
}

// Space used below `dir` without crossing into other filesystems.
void DirUsage(const std::string& dir, uint64_t* bytes, uint64_t* inodes) {
  walk_bytes = 0;
  walk_inodes = 0;
  nftw(dir.c_str(), CountEntry, 16, FTW_PHYS | FTW_MOUNT);
  *bytes = walk_bytes;
  *inodes = walk_inodes;
}

void FillCpuMemory(const CgroupStats& s, cri::CpuUsage* cpu, cri::MemoryUsage* memory) {
  cpu->set_timestamp(s.timestamp_ns);
  cpu->mutable_usage_core_nano_seconds()->set_value(s.cpu_usage_ns);
  memory->set_timestamp(s.timestamp_ns);
  memory->mutable_working_set_bytes()->set_value(s.memory_working_set);
  memory->mutable_usage_bytes()->set_value(s.memory_usage);
  memory->mutable_rss_bytes()->set_value(s.memory_rss);
  memory->mutable_page_faults()->set_value(s.page_faults);
  memory->mutable_major_page_faults()->set_value(s.major_page_faults);
}

}  // namespace

absl::Status Runtime::ContainerStats(const cri::ContainerStatsRequest& req, cri::ContainerStatsResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  auto* out = resp->mutable_stats();
  auto* attrs = out->mutable_attributes();
  attrs->set_id(c->id);
  *attrs->mutable_metadata() = c->config.metadata();
  *attrs->mutable_labels() = c->config.labels();
  *attrs->mutable_annotations() = c->config.annotations();
  auto stats = cgroups_->Stats(c->cgroup);
  if (stats.ok()) FillCpuMemory(*stats, out->mutable_cpu(), out->mutable_memory());
  uint64_t bytes = 0, inodes = 0;
  std::string upper = BundleDir(c->id) + "/fs/upper";
  DirUsage(upper, &bytes, &inodes);
  auto* fs = out->mutable_writable_layer();
  fs->set_timestamp(NowUnixNanos());
  fs->mutable_fs_id()->set_mountpoint(options_.state_dir);
  fs->mutable_used_bytes()->set_value(bytes);
  fs->mutable_inodes_used()->set_value(inodes);
  return absl::OkStatus();
}

absl::Status Runtime::ListContainerStats(const cri::ListContainerStatsRequest& req,
                                         cri::ListContainerStatsResponse* resp) {
  cri::ListContainersRequest list;
  list.mutable_filter()->set_id(req.filter().id());
  list.mutable_filter()->set_pod_sandbox_id(req.filter().pod_sandbox_id());
  *list.mutable_filter()->mutable_label_selector() = req.filter().label_selector();
  cri::ListContainersResponse containers;
  RETURN_IF_ERROR(ListContainers(list, &containers));
  for (const auto& c : containers.containers()) {
    if (c.state() != cri::CONTAINER_RUNNING) continue;
    cri::ContainerStatsRequest one;
    one.set_container_id(c.id());
    cri::ContainerStatsResponse stats;
    if (ContainerStats(one, &stats).ok()) *resp->add_stats() = std::move(*stats.mutable_stats());
  }
  return absl::OkStatus();
}

absl::Status Runtime::PodSandboxStats(const cri::PodSandboxStatsRequest& req,
                                      cri::PodSandboxStatsResponse* resp) {
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status;
  auto* out = resp->mutable_stats();
  auto* attrs = out->mutable_attributes();
  attrs->set_id(sandbox->id);
  *attrs->mutable_metadata() = sandbox->config.metadata();
  *attrs->mutable_labels() = sandbox->config.labels();
  *attrs->mutable_annotations() = sandbox->config.annotations();
  auto* linux = out->mutable_linux();
  auto stats = cgroups_->Stats(sandbox->cgroup);
  if (stats.ok()) {
    FillCpuMemory(*stats, linux->mutable_cpu(), linux->mutable_memory());
    linux->mutable_process()->set_timestamp(stats->timestamp_ns);
    linux->mutable_process()->mutable_process_count()->set_value(stats->pids_current);
  }
  cri::ListContainerStatsRequest list;
  list.mutable_filter()->set_pod_sandbox_id(sandbox->id);
  cri::ListContainerStatsResponse containers;
  RETURN_IF_ERROR(ListContainerStats(list, &containers));
  for (auto& c : *containers.mutable_stats()) *linux->add_containers() = std::move(c);
  return absl::OkStatus();
}

absl::Status Runtime::ListPodSandboxStats(const cri::ListPodSandboxStatsRequest& req,
                                          cri::ListPodSandboxStatsResponse* resp) {
  cri::ListPodSandboxRequest list;
  list.mutable_filter()->set_id(req.filter().id());
  *list.mutable_filter()->mutable_label_selector() = req.filter().label_selector();
  cri::ListPodSandboxResponse sandboxes;
  RETURN_IF_ERROR(ListPodSandbox(list, &sandboxes));
  for (const auto& s : sandboxes.items()) {
    if (s.state() != cri::SANDBOX_READY) continue;
    cri::PodSandboxStatsRequest one;
    one.set_pod_sandbox_id(s.id());
    cri::PodSandboxStatsResponse stats;
    if (PodSandboxStats(one, &stats).ok()) *resp->add_stats() = std::move(*stats.mutable_stats());
  }
  return absl::OkStatus();
}

}  // namespace berth
