// Reading, killing and removing inside one cgroup directory; shared by the
// v1, v2 and systemd managers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth {

// "/a/b" from a cgroupfs name; InvalidArgument for an empty name, the root
// or a ".." component.
absl::StatusOr<std::string> NormalizeCgroupName(const std::string& name);

// One unsigned number from a knob; "max" reads as UINT64_MAX.
absl::StatusOr<uint64_t> ReadCgroupUint(const std::string& path);

// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
std::map<std::string, uint64_t> ParseFlatKeyed(absl::string_view text);

// The pids in <dir>/cgroup.procs, and with `recursive` in every child cgroup too.
absl::StatusOr<std::vector<pid_t>> ReadCgroupProcs(const std::string& dir, bool recursive);

// rmdir of `dir` after its child cgroups, deepest first. Missing is OK; a
// cgroup that still has processes fails with EBUSY (Internal).
absl::Status RemoveCgroupTree(const std::string& dir);

// RemoveCgroupTree, retried a few times over at most `budget_ms` while the
// kernel finishes moving exited tasks out.
absl::Status RemoveCgroupTreeSoon(const std::string& dir, int budget_ms);

// SIGKILLs `pids` through pidfds, runs `after_signal` (a v1 thaw: frozen tasks
// die only once thawed), then waits (poll on the pidfds, not a sleep) until each
// has exited or `timeout_ms` passed.
absl::Status KillAndWait(const std::vector<pid_t>& pids, int timeout_ms,
                         const std::function<void()>& after_signal = nullptr);

// v2: waits on <dir>/cgroup.events until "populated 0" or `timeout_ms` passed.
absl::Status WaitUnpopulated(const std::string& dir, int timeout_ms);

}  // namespace berth
