#include "runtime-shim/cgroups/cgroupfs_v1.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cgroups/cgroup_files.h"

namespace berth {

namespace {

constexpr int kKillTimeoutMs = 10000;
constexpr int kRmdirBudgetMs = 1000;

std::string Knob(const std::string& dir, absl::string_view file) { return absl::StrCat(dir, "/", file); }

absl::Status NeedMount(const std::string& mount, absl::string_view field, absl::string_view controller) {
  if (!mount.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": this host has no cgroup v1 '", controller, "' hierarchy"));
}

// v1 freezer: FREEZING turns into FROZEN once every task has stopped; the state
// is re-evaluated on read, so a short bounded loop is the only way to wait.
void Freeze(const std::string& dir) {
  if (!WriteKnob(Knob(dir, "freezer.state"), "FROZEN").ok()) return;
  long backoff_us = 50;
  for (int i = 0; i < 40; ++i) {
    absl::StatusOr<std::string> state = ReadFile(Knob(dir, "freezer.state"));
    if (!state.ok() || absl::StripAsciiWhitespace(*state) == "FROZEN") return;
    timespec ts{0, backoff_us * 1000};
    ::nanosleep(&ts, nullptr);
    backoff_us = std::min(backoff_us * 2, 5000L);
  }
}

}  // namespace

CgroupfsV1Manager::CgroupfsV1Manager(CgroupLayout layout) : layout_(std::move(layout)) {
  mounts_ = layout_.V1Dirs();
  if (!layout_.unified_dir.empty()) mounts_.push_back(layout_.unified_dir);
  cpuset_mount_ = layout_.V1Dir("cpuset");
  std::string memory = layout_.V1Dir("memory");
  has_memsw_ = !memory.empty() && PathExists(Knob(memory, "memory.memsw.limit_in_bytes"));
}

bool CgroupfsV1Manager::HugetlbInUnified() const { return layout_.V1Dir("hugetlb").empty(); }

absl::Status CgroupfsV1Manager::Validate(const CgroupResources& r) const {
  if (!r.unified.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unified: cgroup v2 keys ('", r.unified.begin()->first,
                                                   "') given on a cgroup v1 host"));
  }
  if (r.cpu_shares || r.cpu_quota || r.cpu_period) {
    RETURN_IF_ERROR(NeedMount(layout_.V1Dir("cpu"), "cpu_shares/cpu_quota/cpu_period", "cpu"));
  }
  if (!r.cpuset_cpus.empty() || !r.cpuset_mems.empty()) {
    RETURN_IF_ERROR(NeedMount(cpuset_mount_, "cpuset_cpus/cpuset_mems", "cpuset"));
  }
  if (r.memory_limit || r.memory_swap_limit) {
    RETURN_IF_ERROR(NeedMount(layout_.V1Dir("memory"), "memory_limit", "memory"));
  }
  if (r.memory_swap_limit && *r.memory_swap_limit != -1 && !has_memsw_) {
    return absl::InvalidArgumentError(absl::StrCat("memory_swap_limit ", *r.memory_swap_limit,
                                                   ": swap accounting (memory.memsw) is off on this host"));
  }
  if (r.pids_limit) RETURN_IF_ERROR(NeedMount(layout_.V1Dir("pids"), "pids_limit", "pids"));
  if (!r.device_rules.empty()) RETURN_IF_ERROR(NeedMount(layout_.V1Dir("devices"), "device_rules", "devices"));
  if (!r.hugepage_limits.empty() && HugetlbInUnified() &&
      layout_.unified_controllers.count("hugetlb") == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hugepage_limits[", r.hugepage_limits.begin()->first,
        "]: no hugetlb controller (neither a v1 hierarchy nor in the cgroup2 mount)"));
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV1Manager::MakeDir(const std::string& mount, const std::string& name,
                                        std::vector<std::string>* created) {
  std::string path = mount + name;
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) return absl::OkStatus();
    if (errno != ENOENT) return ErrnoError(absl::StrCat("mkdir ", path));
    size_t slash = name.find_last_of('/');
    if (slash == 0 || slash == std::string::npos) return ErrnoError(absl::StrCat("mkdir ", path));
    RETURN_IF_ERROR(MakeDir(mount, name.substr(0, slash), created));
    if (::mkdir(path.c_str(), 0755) != 0) {
      if (errno == EEXIST) return absl::OkStatus();
      return ErrnoError(absl::StrCat("mkdir ", path));
    }
  }
  created->push_back(path);
  if (mount == cpuset_mount_) {
    // A new v1 cpuset cgroup starts with no cpus and mems and takes no tasks
    // until given some: inherit the parent's.
    std::string parent = path.substr(0, path.find_last_of('/'));
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      ASSIGN_OR_RETURN(std::string value, ReadFile(Knob(parent, file)));
      std::string trimmed(absl::StripAsciiWhitespace(value));
      if (!trimmed.empty()) RETURN_IF_ERROR(WriteKnob(Knob(path, file), trimmed));
    }
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV1Manager::EnableUnifiedHugetlb(const std::string& name) {
  // Each ancestor of the cgroup must pass hugetlb down to its children.
  std::string dir = layout_.unified_dir;
  std::vector<std::string> parts = absl::StrSplit(name, '/', absl::SkipEmpty());
  for (size_t i = 0; i < parts.size(); ++i) {
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "cgroup.subtree_control"), "+hugetlb"));
    dir = absl::StrCat(dir, "/", parts[i]);
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV1Manager::Create(const std::string& name_in, const CgroupResources& resources) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  RETURN_IF_ERROR(Validate(resources));
  std::vector<std::string> created;
  absl::Status status;
  for (const std::string& mount : mounts_) {
    status = MakeDir(mount, name, &created);
    if (!status.ok()) break;
  }
  if (status.ok() && !resources.hugepage_limits.empty() && HugetlbInUnified()) {
    status = EnableUnifiedHugetlb(name);
  }
  if (status.ok()) status = Apply(name, resources);
  if (!status.ok()) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    return Annotate(status, absl::StrCat("create cgroup ", name));
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV1Manager::ApplyMemory(const std::string& dir, const CgroupResources& r) {
  std::string limit_knob = Knob(dir, "memory.limit_in_bytes");
  std::string swap_knob = Knob(dir, "memory.memsw.limit_in_bytes");
  std::string limit;
  if (r.memory_limit) limit = *r.memory_limit <= 0 ? "-1" : absl::StrCat(*r.memory_limit);
  std::string swap;
  if (r.memory_swap_limit && has_memsw_) {
    swap = *r.memory_swap_limit < 0 ? "-1" : absl::StrCat(*r.memory_swap_limit);
  }
  if (swap.empty()) return limit.empty() ? absl::OkStatus() : WriteKnob(limit_knob, limit);
  if (limit.empty()) return WriteKnob(swap_knob, swap);
  // memsw must stay >= the memory limit at every step: raising goes memsw first.
  absl::Status first = WriteKnob(limit_knob, limit);
  if (first.ok()) return WriteKnob(swap_knob, swap);
  RETURN_IF_ERROR(WriteKnob(swap_knob, swap));
  return WriteKnob(limit_knob, limit);
}

absl::Status CgroupfsV1Manager::Apply(const std::string& name, const CgroupResources& r) {
  if (r.cpu_shares || r.cpu_quota || r.cpu_period) {
    std::string dir = layout_.V1Dir("cpu") + name;
    if (r.cpu_shares) RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpu.shares"), absl::StrCat(*r.cpu_shares)));
    // The period first: the kernel checks the quota against it.
    if (r.cpu_period) RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpu.cfs_period_us"), absl::StrCat(*r.cpu_period)));
    if (r.cpu_quota) {
      RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpu.cfs_quota_us"),
                                absl::StrCat(*r.cpu_quota <= 0 ? -1 : *r.cpu_quota)));
    }
  }
  if (!r.cpuset_cpus.empty()) RETURN_IF_ERROR(WriteKnob(Knob(cpuset_mount_ + name, "cpuset.cpus"), r.cpuset_cpus));
  if (!r.cpuset_mems.empty()) RETURN_IF_ERROR(WriteKnob(Knob(cpuset_mount_ + name, "cpuset.mems"), r.cpuset_mems));
  if (r.memory_limit || r.memory_swap_limit) RETURN_IF_ERROR(ApplyMemory(layout_.V1Dir("memory") + name, r));
  if (r.pids_limit) {
    RETURN_IF_ERROR(WriteKnob(Knob(layout_.V1Dir("pids") + name, "pids.max"),
                              *r.pids_limit <= 0 ? std::string("max") : absl::StrCat(*r.pids_limit)));
  }
  for (const auto& [size, bytes] : r.hugepage_limits) {
    std::string knob = HugetlbInUnified()
                           ? Knob(layout_.unified_dir + name, absl::StrCat("hugetlb.", size, ".max"))
                           : Knob(layout_.V1Dir("hugetlb") + name, absl::StrCat("hugetlb.", size, ".limit_in_bytes"));
    absl::Status status = WriteKnob(knob, absl::StrCat(bytes));
    if (absl::IsNotFound(status)) {
      return absl::InvalidArgumentError(absl::StrCat("hugepage_limits[", size, "]: no such page size (", knob, ")"));
    }
    RETURN_IF_ERROR(status);
  }
  if (!r.device_rules.empty()) {
    std::string dir = layout_.V1Dir("devices") + name;
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "devices.deny"), "a"));
    for (const std::string& rule : r.device_rules) {
      absl::Status status = WriteKnob(Knob(dir, "devices.allow"), rule);
      if (absl::IsInvalidArgument(status)) {
        return absl::InvalidArgumentError(absl::StrCat("device_rules: bad rule '", rule, "'"));
      }
      RETURN_IF_ERROR(status);
    }
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV1Manager::Update(const std::string& name_in, const CgroupResources& resources) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  RETURN_IF_ERROR(Validate(resources));
  if (!resources.hugepage_limits.empty() && HugetlbInUnified()) {
    RETURN_IF_ERROR(Annotate(EnableUnifiedHugetlb(name), absl::StrCat("update cgroup ", name)));
  }
  return Annotate(Apply(name, resources), absl::StrCat("update cgroup ", name));
}

absl::StatusOr<std::vector<std::string>> CgroupfsV1Manager::ProcsDirs(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  std::vector<std::string> dirs;
  dirs.reserve(mounts_.size());
  for (const std::string& mount : mounts_) dirs.push_back(mount + name);
  return dirs;
}

std::string CgroupfsV1Manager::MemoryDir(const std::string& name_in) {
  absl::StatusOr<std::string> name = NormalizeCgroupName(name_in);
  return layout_.V1Dir("memory") + (name.ok() ? *name : name_in);
}

absl::StatusOr<uint64_t> CgroupfsV1Manager::OomKillCount(const std::string& name) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(Knob(MemoryDir(name), "memory.oom_control")));
  return ParseFlatKeyed(text)["oom_kill"];
}

absl::StatusOr<CgroupStats> CgroupfsV1Manager::Stats(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  CgroupStats stats;
  stats.timestamp_ns = NowUnixNanos();
  std::string cpuacct = layout_.V1Dir("cpuacct");
  if (!cpuacct.empty()) {
    ASSIGN_OR_RETURN(stats.cpu_usage_ns, ReadCgroupUint(Knob(cpuacct + name, "cpuacct.usage")));
  }
  std::string memory = layout_.V1Dir("memory");
  if (!memory.empty()) {
    ASSIGN_OR_RETURN(stats.memory_usage, ReadCgroupUint(Knob(memory + name, "memory.usage_in_bytes")));
    ASSIGN_OR_RETURN(std::string text, ReadFile(Knob(memory + name, "memory.stat")));
    std::map<std::string, uint64_t> stat = ParseFlatKeyed(text);
    uint64_t inactive_file = stat["total_inactive_file"];
    stats.memory_working_set = stats.memory_usage > inactive_file ? stats.memory_usage - inactive_file : 0;
    stats.memory_rss = stat["total_rss"];
    stats.page_faults = stat["total_pgfault"];
    stats.major_page_faults = stat["total_pgmajfault"];
  }
  std::string pids = layout_.V1Dir("pids");
  if (!pids.empty()) {
    ASSIGN_OR_RETURN(stats.pids_current, ReadCgroupUint(Knob(pids + name, "pids.current")));
  }
  return stats;
}

absl::StatusOr<std::vector<pid_t>> CgroupfsV1Manager::Pids(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  std::string mount = layout_.V1Dir("pids");
  if (mount.empty()) mount = layout_.V1Dir("freezer");
  if (mount.empty()) mount = mounts_.front();
  return ReadCgroupProcs(mount + name, /*recursive=*/true);
}

absl::Status CgroupfsV1Manager::KillAll(const std::string& name) {
  std::string freezer = layout_.V1Dir("freezer");
  if (!freezer.empty()) Freeze(freezer + name);
  // A task may have joined only some hierarchies: gather from all.
  std::set<pid_t> pids;
  for (const std::string& mount : mounts_) {
    absl::StatusOr<std::vector<pid_t>> some = ReadCgroupProcs(mount + name, /*recursive=*/true);
    if (some.ok()) pids.insert(some->begin(), some->end());
  }
  BERTH_LOG(Debug) << "killing what is left in cgroup" << Kv("name", name)
                   << Kv("pids", static_cast<long long>(pids.size()));
  return KillAndWait({pids.begin(), pids.end()}, kKillTimeoutMs, [&] {
    if (!freezer.empty()) (void)WriteKnob(Knob(freezer + name, "freezer.state"), "THAWED");
  });
}

absl::Status CgroupfsV1Manager::Destroy(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  // The common case is an empty cgroup: try plain removal first.
  bool busy = false;
  for (const std::string& mount : mounts_) {
    if (!RemoveCgroupTree(mount + name).ok()) busy = true;
  }
  if (!busy) return absl::OkStatus();
  RETURN_IF_ERROR(Annotate(KillAll(name), absl::StrCat("destroy cgroup ", name)));
  for (const std::string& mount : mounts_) {
    RETURN_IF_ERROR(Annotate(RemoveCgroupTreeSoon(mount + name, kRmdirBudgetMs),
                             absl::StrCat("destroy cgroup ", name)));
  }
  return absl::OkStatus();
}

}  // namespace berth
