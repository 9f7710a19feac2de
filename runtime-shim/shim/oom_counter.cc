#include "runtime-shim/shim/oom_counter.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::shim {

int64_t ParseOomKillCount(absl::string_view content) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (!absl::ConsumePrefix(&line, "oom_kill ")) continue;
    int64_t count = 0;
    if (absl::SimpleAtoi(line, &count)) return count;
  }
  return -1;
}

int64_t ReadOomKillCount(const std::string& memory_cgroup_dir) {
  if (memory_cgroup_dir.empty()) return -1;
  for (const char* name : {"/memory.events", "/memory.oom_control"}) {
    auto content = ReadFile(memory_cgroup_dir + name);
    if (!content.ok()) continue;
    int64_t count = ParseOomKillCount(*content);
    if (count >= 0) return count;
  }
  return -1;
}

}  // namespace berth::shim
