// The standard process metrics of Prometheus clients, read from /proc/self at
// scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent/metrics/registry.h"

namespace berth::agent::metrics {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // since the epoch
};

// From the text of /proc/<pid>/stat, the btime line's value of /proc/stat,
// the clock tick rate and the page size.
absl::StatusOr<ProcessStats> ParseProcessStat(const std::string& stat, double boot_time_seconds, long ticks_per_second,
                                              long page_size);

void AddProcessMetrics(Registry* registry);

}  // namespace berth::agent::metrics
