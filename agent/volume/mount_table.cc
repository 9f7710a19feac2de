#include "agent/volume/mount_table.h"

#include <sys/mount.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"

namespace berth::agent::volume {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto oct = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && oct(i + 1) && oct(i + 2) && oct(i + 3)) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsAtOrUnder(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  std::string prefix = dir.back() == '/' ? dir : dir + "/";
  return absl::StartsWith(path, prefix);
}

}  // namespace

std::vector<MountEntry> ParseMountInfo(const std::string& text) {
  std::vector<MountEntry> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    if (f.size() < 10) continue;
    auto dash = std::find(f.begin() + 6, f.end(), "-");
    if (dash == f.end() || dash + 2 >= f.end()) continue;
    out.push_back(MountEntry{Unescape(f[4]), std::string(*(dash + 1)), Unescape(*(dash + 2))});
  }
  return out;
}

absl::StatusOr<std::vector<MountEntry>> ReadMountTable() {
  auto text = ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return text.status();
  return ParseMountInfo(*text);
}

absl::StatusOr<std::optional<MountEntry>> MountAt(const std::string& path) {
  auto table = ReadMountTable();
  if (!table.ok()) return table.status();
  std::optional<MountEntry> found;
  for (const auto& m : *table) {
    if (m.mount_point == path) found = m;
  }
  return found;
}

absl::Status UnmountUnder(const std::string& dir) {
  // Mounts may stack; repeat until nothing is left (bounded by the table size).
  for (int round = 0; round < 64; ++round) {
    auto table = ReadMountTable();
    if (!table.ok()) return table.status();
    std::vector<std::string> targets;
    for (auto it = table->rbegin(); it != table->rend(); ++it) {
      if (IsAtOrUnder(it->mount_point, dir)) targets.push_back(it->mount_point);
    }
    if (targets.empty()) return absl::OkStatus();
    std::stable_sort(targets.begin(), targets.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& t : targets) {
      if (umount2(t.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
        return ErrnoError(absl::StrCat("unmount ", t));
      }
    }
  }
  return absl::InternalError(absl::StrCat("mounts under ", dir, " keep coming back"));
}

}  // namespace berth::agent::volume
