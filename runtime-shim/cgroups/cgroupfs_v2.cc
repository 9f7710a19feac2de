#include "runtime-shim/cgroups/cgroupfs_v2.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cgroups/cgroup_files.h"

namespace berth {

namespace {

constexpr int kKillTimeoutMs = 10000;
constexpr int kRmdirBudgetMs = 1000;

std::string Knob(const std::string& dir, absl::string_view file) { return absl::StrCat(dir, "/", file); }

// A missing knob (its controller is not enabled here) reads as 0.
absl::StatusOr<uint64_t> ReadUintOrZero(const std::string& path) {
  absl::StatusOr<uint64_t> value = ReadCgroupUint(path);
  if (absl::IsNotFound(value.status())) return 0;
  return value;
}

absl::StatusOr<std::map<std::string, uint64_t>> ReadKeyedOrEmpty(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) return std::map<std::string, uint64_t>{};
  if (!text.ok()) return text.status();
  return ParseFlatKeyed(*text);
}

}  // namespace

uint64_t CpuSharesToWeight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

CgroupfsV2Manager::CgroupfsV2Manager(CgroupLayout layout)
    : layout_(std::move(layout)), root_(layout_.unified_dir) {}

absl::StatusOr<std::string> CgroupfsV2Manager::NeededControllers(const CgroupResources& r) const {
  const std::set<std::string>& have = layout_.unified_controllers;
  std::vector<std::string> wanted;
  // Enabled whenever offered, for accounting and stats.
  for (const char* c : {"cpu", "memory", "pids", "io"}) {
    if (have.count(c)) wanted.push_back(c);
  }
  auto need = [&](const char* controller, bool asked, absl::string_view field) -> absl::Status {
    if (!asked) return absl::OkStatus();
    if (have.count(controller) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": the '", controller, "' controller is not available in ", root_));
    }
    if (std::find(wanted.begin(), wanted.end(), controller) == wanted.end()) wanted.push_back(controller);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(need("cpu", r.cpu_shares || r.cpu_quota || r.cpu_period, "cpu_shares/cpu_quota/cpu_period"));
  RETURN_IF_ERROR(need("cpuset", !r.cpuset_cpus.empty() || !r.cpuset_mems.empty(), "cpuset_cpus/cpuset_mems"));
  RETURN_IF_ERROR(need("memory", r.memory_limit || r.memory_swap_limit, "memory_limit"));
  RETURN_IF_ERROR(need("pids", r.pids_limit.has_value(), "pids_limit"));
  if (!r.hugepage_limits.empty()) {
    RETURN_IF_ERROR(need("hugetlb", true, absl::StrCat("hugepage_limits[", r.hugepage_limits.begin()->first, "]")));
  }
  if (r.memory_swap_limit && *r.memory_swap_limit >= 0 &&
      (!r.memory_limit || *r.memory_limit <= 0 || *r.memory_swap_limit < *r.memory_limit)) {
    return absl::InvalidArgumentError(absl::StrCat("memory_swap_limit ", *r.memory_swap_limit,
                                                   ": needs a memory_limit no larger than it"));
  }
  for (const auto& [key, value] : r.unified) {
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..") {
      return absl::InvalidArgumentError(absl::StrCat("unified: bad file name '", key, "'"));
    }
  }
  std::string out;
  for (const std::string& c : wanted) absl::StrAppend(&out, out.empty() ? "+" : " +", c);
  return out;
}

absl::Status CgroupfsV2Manager::EnableControllers(const std::string& name, const std::string& controllers) {
  if (controllers.empty()) return absl::OkStatus();
  std::vector<std::string> parts = absl::StrSplit(name, '/', absl::SkipEmpty());
  std::string dir = root_;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string key = absl::StrCat(dir, "\n", controllers);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (enabled_.count(key) > 0) {
        dir = absl::StrCat(dir, "/", parts[i]);
        continue;
      }
    }
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "cgroup.subtree_control"), controllers));
    {
      std::lock_guard<std::mutex> lock(mu_);
      enabled_.insert(key);
    }
    dir = absl::StrCat(dir, "/", parts[i]);
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV2Manager::Apply(const std::string& dir, const CgroupResources& r) {
  if (r.cpu_shares) {
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpu.weight"), absl::StrCat(CpuSharesToWeight(*r.cpu_shares))));
  }
  if (r.cpu_quota || r.cpu_period) {
    std::string quota;
    if (r.cpu_quota) {
      quota = *r.cpu_quota <= 0 ? "max" : absl::StrCat(*r.cpu_quota);
    } else {
      // Only the period changes: keep the quota there.
      ASSIGN_OR_RETURN(std::string current, ReadFile(Knob(dir, "cpu.max")));
      std::vector<std::string> fields = absl::StrSplit(current, absl::ByAnyChar(" \n"), absl::SkipEmpty());
      quota = fields.empty() ? "max" : fields[0];
    }
    // A lone quota keeps the period that is there.
    std::string value = r.cpu_period ? absl::StrCat(quota, " ", *r.cpu_period) : quota;
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpu.max"), value));
  }
  if (!r.cpuset_cpus.empty()) RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpuset.cpus"), r.cpuset_cpus));
  if (!r.cpuset_mems.empty()) RETURN_IF_ERROR(WriteKnob(Knob(dir, "cpuset.mems"), r.cpuset_mems));
  if (r.memory_limit) {
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "memory.max"),
                              *r.memory_limit <= 0 ? std::string("max") : absl::StrCat(*r.memory_limit)));
  }
  if (r.memory_swap_limit) {
    // v1's memsw counts memory + swap; v2's swap.max counts swap alone.
    std::string swap = *r.memory_swap_limit < 0 ? std::string("max")
                                                : absl::StrCat(*r.memory_swap_limit - *r.memory_limit);
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "memory.swap.max"), swap));
  }
  if (r.pids_limit) {
    RETURN_IF_ERROR(WriteKnob(Knob(dir, "pids.max"),
                              *r.pids_limit <= 0 ? std::string("max") : absl::StrCat(*r.pids_limit)));
  }
  for (const auto& [size, bytes] : r.hugepage_limits) {
    std::string knob = Knob(dir, absl::StrCat("hugetlb.", size, ".max"));
    absl::Status status = WriteKnob(knob, absl::StrCat(bytes));
    if (absl::IsNotFound(status)) {
      return absl::InvalidArgumentError(absl::StrCat("hugepage_limits[", size, "]: no such page size (", knob, ")"));
    }
    RETURN_IF_ERROR(status);
  }
  for (const auto& [key, value] : r.unified) {
    absl::Status status = WriteKnob(Knob(dir, key), value);
    if (absl::IsNotFound(status)) {
      return absl::InvalidArgumentError(absl::StrCat("unified[", key, "]: no such file in ", dir));
    }
    RETURN_IF_ERROR(status);
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV2Manager::Create(const std::string& name_in, const CgroupResources& resources) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  ASSIGN_OR_RETURN(std::string controllers, NeededControllers(resources));
  // Missing ancestors first, top down, remembering what this call made.
  std::vector<std::string> created;
  absl::Status status;
  std::vector<std::string> parts = absl::StrSplit(name, '/', absl::SkipEmpty());
  std::string dir = root_;
  std::string leaf = root_ + name;
  if (::mkdir(leaf.c_str(), 0755) == 0) {
    created.push_back(leaf);
  } else if (errno == ENOENT) {
    for (const std::string& part : parts) {
      dir = absl::StrCat(dir, "/", part);
      if (::mkdir(dir.c_str(), 0755) == 0) {
        created.push_back(dir);
      } else if (errno != EEXIST) {
        status = ErrnoError(absl::StrCat("mkdir ", dir));
        break;
      }
    }
  } else if (errno != EEXIST) {
    status = ErrnoError(absl::StrCat("mkdir ", leaf));
  }
  if (status.ok()) status = EnableControllers(name, controllers);
  if (status.ok()) status = Apply(leaf, resources);
  if (!status.ok()) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    return Annotate(status, absl::StrCat("create cgroup ", name));
  }
  return absl::OkStatus();
}

absl::Status CgroupfsV2Manager::Update(const std::string& name_in, const CgroupResources& resources) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  ASSIGN_OR_RETURN(std::string controllers, NeededControllers(resources));
  absl::Status status = EnableControllers(name, controllers);
  if (status.ok()) status = Apply(root_ + name, resources);
  return Annotate(status, absl::StrCat("update cgroup ", name));
}

absl::StatusOr<std::vector<std::string>> CgroupfsV2Manager::ProcsDirs(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  return std::vector<std::string>{root_ + name};
}

std::string CgroupfsV2Manager::MemoryDir(const std::string& name_in) {
  absl::StatusOr<std::string> name = NormalizeCgroupName(name_in);
  return root_ + (name.ok() ? *name : name_in);
}

absl::StatusOr<uint64_t> CgroupfsV2Manager::OomKillCount(const std::string& name) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(Knob(MemoryDir(name), "memory.events")));
  return ParseFlatKeyed(text)["oom_kill"];
}

absl::StatusOr<CgroupStats> CgroupfsV2Manager::Stats(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  std::string dir = root_ + name;
  CgroupStats stats;
  stats.timestamp_ns = NowUnixNanos();
  ASSIGN_OR_RETURN(std::string cpu_text, ReadFile(Knob(dir, "cpu.stat")));
  stats.cpu_usage_ns = ParseFlatKeyed(cpu_text)["usage_usec"] * 1000;
  ASSIGN_OR_RETURN(stats.memory_usage, ReadUintOrZero(Knob(dir, "memory.current")));
  ASSIGN_OR_RETURN(auto memory_stat, ReadKeyedOrEmpty(Knob(dir, "memory.stat")));
  uint64_t inactive_file = memory_stat["inactive_file"];
  stats.memory_working_set = stats.memory_usage > inactive_file ? stats.memory_usage - inactive_file : 0;
  stats.memory_rss = memory_stat["anon"];
  stats.page_faults = memory_stat["pgfault"];
  stats.major_page_faults = memory_stat["pgmajfault"];
  ASSIGN_OR_RETURN(stats.pids_current, ReadUintOrZero(Knob(dir, "pids.current")));
  return stats;
}

absl::StatusOr<std::vector<pid_t>> CgroupfsV2Manager::Pids(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  return ReadCgroupProcs(root_ + name, /*recursive=*/true);
}

absl::Status CgroupfsV2Manager::KillAll(const std::string& dir) {
  // cgroup.kill (5.14+) kills the whole subtree atomically, forks included.
  absl::Status killed = WriteKnob(Knob(dir, "cgroup.kill"), "1");
  if (killed.ok()) return WaitUnpopulated(dir, kKillTimeoutMs);
  if (!absl::IsNotFound(killed)) return killed;
  bool frozen = WriteKnob(Knob(dir, "cgroup.freeze"), "1").ok();
  ASSIGN_OR_RETURN(std::vector<pid_t> pids, ReadCgroupProcs(dir, /*recursive=*/true));
  return KillAndWait(pids, kKillTimeoutMs, [&] {
    if (frozen) (void)WriteKnob(Knob(dir, "cgroup.freeze"), "0");
  });
}

absl::Status CgroupfsV2Manager::Destroy(const std::string& name_in) {
  ASSIGN_OR_RETURN(std::string name, NormalizeCgroupName(name_in));
  std::string dir = root_ + name;
  if (RemoveCgroupTree(dir).ok()) return absl::OkStatus();
  RETURN_IF_ERROR(Annotate(KillAll(dir), absl::StrCat("destroy cgroup ", name)));
  return Annotate(RemoveCgroupTreeSoon(dir, kRmdirBudgetMs), absl::StrCat("destroy cgroup ", name));
}

}  // namespace berth
