// The memory cgroup's OOM kill counter, read at create and at exit: the
// container was OOM killed when it grew.
// No allocation and no libc: berth-shim-monitor links it without libc.
#pragma once

#include <cstdint>
#include <string_view>

namespace berth::shim {

// The N of an "oom_kill N" line (cgroup v2 memory.events, v1
// memory.oom_control); -1 when there is none.
int64_t ParseOomKillCount(std::string_view content);

// Reads memory.events, then memory.oom_control, under `memory_cgroup_dir`;
// -1 when neither has the counter (or the dir is empty).
int64_t ReadOomKillCount(std::string_view memory_cgroup_dir);

}  // namespace berth::shim
