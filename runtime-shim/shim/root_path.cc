#include "runtime-shim/shim/root_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"

namespace berth::shim {
namespace {

constexpr int kMaxSymlinks = 40;

void PushFront(std::deque<std::string>* parts, const std::string& path) {
  std::vector<std::string> split = absl::StrSplit(path, '/', absl::SkipEmpty());
  parts->insert(parts->begin(), split.begin(), split.end());
}

}  // namespace

absl::StatusOr<std::string> ResolveInRoot(const std::string& root, const std::string& path) {
  const std::string clean_root = CleanPath(root);
  std::deque<std::string> parts;
  PushFront(&parts, path);
  std::vector<std::string> resolved;  // components under the root, no symlinks
  int links = 0;
  bool missing = false;  // once a component is missing, the rest is lexical
  while (!parts.empty()) {
    std::string part = std::move(parts.front());
    parts.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    resolved.push_back(part);
    if (missing) continue;
    std::string host = absl::StrCat(clean_root, "/", absl::StrJoin(resolved, "/"));
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        missing = true;
        continue;
      }
      return ErrnoError(absl::StrCat("lstat ", host));
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxSymlinks) {
      return ErrnoError(ELOOP, absl::StrCat("resolve ", path, " under ", root));
    }
    char target[4096];
    ssize_t n = ::readlink(host.c_str(), target, sizeof(target) - 1);
    if (n < 0) return ErrnoError(absl::StrCat("readlink ", host));
    target[n] = '\0';
    resolved.pop_back();
    if (target[0] == '/') resolved.clear();
    PushFront(&parts, target);
  }
  if (resolved.empty()) return clean_root;
  return absl::StrCat(clean_root == "/" ? "" : clean_root, "/", absl::StrJoin(resolved, "/"));
}

}  // namespace berth::shim
