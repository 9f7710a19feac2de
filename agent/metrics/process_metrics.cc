#include "agent/metrics/process_metrics.h"

#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"

namespace berth::agent::metrics {

absl::StatusOr<ProcessStats> ParseProcessStat(const std::string& stat, double boot_time_seconds, long ticks_per_second,
                                              long page_size) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields
  // are counted after the last ')'. utime is field 14, stime 15, starttime 22,
  // vsize 23, rss 24 (1-based, as proc(5) numbers them).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::InvalidArgumentError("/proc/self/stat: no ')' after the command");
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipEmpty());
  auto field = [&](int n, double* out) {
    size_t i = n - 3;  // f[0] is field 3 (state)
    return i < f.size() && absl::SimpleAtod(f[i], out);
  };
  double utime, stime, start, vsize, rss;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &start) || !field(23, &vsize) || !field(24, &rss)) {
    return absl::InvalidArgumentError(absl::StrCat("/proc/self/stat: too few fields (", f.size() + 2, ")"));
  }
  ProcessStats s;
  s.cpu_seconds = (utime + stime) / ticks_per_second;
  s.start_time_seconds = boot_time_seconds + start / ticks_per_second;
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * page_size;
  return s;
}

namespace {

double BootTimeSeconds() {
  auto text = ReadFile("/proc/stat");
  if (!text.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    double btime;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtod(line, &btime)) return btime;
  }
  return 0;
}

}  // namespace

void AddProcessMetrics(Registry* registry) {
  auto& cpu = registry->AddCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
                  .Get();
  auto& rss = registry->AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.").Get();
  auto& vsize = registry->AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").Get();
  auto& start = registry->AddGauge("process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.").Get();
  auto& fds = registry->AddGauge("process_open_fds", "Number of open file descriptors.").Get();
  double boot = BootTimeSeconds();
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  registry->AddCollector([&cpu, &rss, &vsize, &start, &fds, boot, ticks, page] {
    auto text = ReadFile("/proc/self/stat");
    if (text.ok()) {
      auto s = ParseProcessStat(*text, boot, ticks, page);
      if (s.ok()) {
        cpu.Set(s->cpu_seconds);
        rss.Set(s->resident_bytes);
        vsize.Set(s->virtual_bytes);
        start.Set(s->start_time_seconds);
      }
    }
    auto entries = ListDir("/proc/self/fd");
    if (entries.ok()) fds.Set(static_cast<double>(entries->size()));
  });
}

}  // namespace berth::agent::metrics
