#include "runtime-shim/shim/oom_counter.h"

#include "runtime-shim/shim/raw_syscalls.h"
#include "runtime-shim/shim/small_text.h"

namespace berth::shim {

int64_t ParseOomKillCount(std::string_view content) {
  constexpr std::string_view kKey = "oom_kill ";
  while (!content.empty()) {
    size_t end = content.find('\n');
    std::string_view line(content.data(), end == std::string_view::npos ? content.size() : end);
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (line.size() <= kKey.size() || std::string_view(line.data(), kKey.size()) != kKey) continue;
    line.remove_prefix(kKey.size());
    int64_t count = 0;
    bool digits = line.size() <= 18;
    for (char c : line) {
      if (c < '0' || c > '9') digits = false;
      count = count * 10 + (c - '0');
    }
    if (digits) return count;
  }
  return -1;
}

int64_t ReadOomKillCount(std::string_view memory_cgroup_dir) {
  if (memory_cgroup_dir.empty()) return -1;
  for (std::string_view name : {"/memory.events", "/memory.oom_control"}) {
    Text<4096> path;
    path.Append(memory_cgroup_dir).Append(name);
    if (path.truncated()) return -1;
    long fd = sys::Open(path.CStr(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char content[2048];
    size_t size = 0;
    while (size < sizeof(content)) {
      long n = sys::Retry([&] { return sys::Read(static_cast<int>(fd), content + size,
                                                 sizeof(content) - size); });
      if (n <= 0) break;
      size += static_cast<size_t>(n);
    }
    sys::Close(static_cast<int>(fd));
    int64_t count = ParseOomKillCount(std::string_view(content, size));
    if (count >= 0) return count;
  }
  return -1;
}

}  // namespace berth::shim
