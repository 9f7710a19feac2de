#include "device-plugin/driver_files.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::gpu {
namespace {

constexpr const char* kDefaultLibDirs[] = {
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
    "/lib/x86_64-linux-gnu",     "/lib/aarch64-linux-gnu",     "/lib64",     "/lib",
    "/usr/local/nvidia/lib64",   "/usr/local/nvidia/lib",
};

constexpr const char* kBinaries[] = {
    "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
};

constexpr const char* kBinDirs[] = {"/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/nvidia/bin"};

void AddConfDirs(const std::string& root, const std::string& conf, std::vector<std::string>* dirs, int depth) {
  if (depth > 4) return;
  auto text = ReadFile(JoinUnderRoot(root, conf));
  if (!text.ok()) return;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (absl::StartsWith(line, "include")) {
      // "include /etc/ld.so.conf.d/*.conf": every *.conf of that dir.
      std::string pattern(absl::StripAsciiWhitespace(line.substr(7)));
      std::string dir = pattern.substr(0, pattern.rfind('/'));
      auto names = ListDir(JoinUnderRoot(root, dir));
      if (!names.ok()) continue;
      std::sort(names->begin(), names->end());
      for (const auto& n : *names) {
        if (absl::EndsWith(n, ".conf")) AddConfDirs(root, dir + "/" + n, dirs, depth + 1);
      }
    } else if (absl::StartsWith(line, "/")) {
      dirs->emplace_back(line);
    }
  }
}

// The real path of a host path, for telling /lib from /usr/lib when one
// links to the other; the path itself when it cannot be resolved.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

}  // namespace

bool IsDriverLibraryName(const std::string& name) {
  static constexpr const char* kPrefixes[] = {
      "libcuda.so", "libcudadebugger.so", "libnvidia-", "libnvcuvid.so", "libnvoptix.so",
      "libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv1_CM_nvidia.so", "libGLESv2_nvidia.so",
  };
  if (name.find(".so") == std::string::npos) return false;
  for (const char* p : kPrefixes) {
    if (absl::StartsWith(name, p)) return true;
  }
  return false;
}

std::vector<std::string> LibraryDirs(const std::string& root) {
  std::vector<std::string> dirs;
  AddConfDirs(root, "/etc/ld.so.conf", &dirs, 0);
  for (const char* d : kDefaultLibDirs) dirs.emplace_back(d);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& d : dirs) {
    std::string host = JoinUnderRoot(root, d);
    struct stat st;
    if (stat(host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (seen.insert(RealPath(host)).second) out.push_back(CleanPath(d));
  }
  return out;
}

DriverFiles FindDriverFiles(const std::string& root, const std::string& driver_version) {
  DriverFiles files;
  std::set<std::string> seen_names;
  for (const auto& dir : LibraryDirs(root)) {
    auto names = ListDir(JoinUnderRoot(root, dir));
    if (!names.ok()) continue;
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
      // The first dir with a name wins, as the dynamic loader's search would.
      if (!IsDriverLibraryName(name) || !seen_names.insert(name).second) continue;
      std::string container_path = dir + "/" + name;
      files.libraries.push_back({JoinUnderRoot(root, container_path), container_path});
    }
  }
  for (const char* bin : kBinaries) {
    for (const char* dir : kBinDirs) {
      std::string container_path = std::string(dir) + "/" + bin;
      std::string host = JoinUnderRoot(root, container_path);
      if (access(host.c_str(), X_OK) == 0) {
        files.binaries.push_back({host, container_path});
        break;
      }
    }
  }
  for (std::string path : {std::string("/run/nvidia-persistenced/socket"),
                           driver_version.empty() ? std::string() : "/lib/firmware/nvidia/" + driver_version}) {
    if (path.empty()) continue;
    std::string host = JoinUnderRoot(root, path);
    if (PathExists(host)) files.others.push_back({host, path});
  }
  return files;
}

}  // namespace berth::gpu
