#include "device-plugin/sysfs_pci.h"

#include <unistd.h>

#include <climits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::gpu {

std::vector<std::string> PciPath(const std::string& root, const std::string& bus_id) {
  std::string link = JoinUnderRoot(root, "/sys/bus/pci/devices/" + bus_id);
  char target[PATH_MAX];
  ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return {};
  target[n] = '\0';
  // "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"
  std::vector<std::string> parts = absl::StrSplit(std::string(target), '/', absl::SkipEmpty());
  std::vector<std::string> path;
  bool below_devices = false;
  for (const auto& p : parts) {
    if (below_devices) {
      path.push_back(p);
    } else if (p == "devices") {
      below_devices = true;
    }
  }
  return path;
}

void FillFromSysfs(const std::string& root, Inventory* inventory) {
  std::vector<std::vector<std::string>> paths;
  for (auto& gpu : inventory->gpus) {
    auto numa = ReadFile(JoinUnderRoot(root, "/sys/bus/pci/devices/" + gpu.pci_bus_id + "/numa_node"));
    int node = -1;
    if (numa.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*numa), &node)) gpu.numa_node = node;
    paths.push_back(PciPath(root, gpu.pci_bus_id));
  }
  size_t n = paths.size();
  bool any = false;
  std::vector<std::vector<int>> closeness(n, std::vector<int>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      size_t common = 0;
      // The last element is the GPU itself, never shared.
      while (common + 1 < paths[i].size() && common + 1 < paths[j].size() &&
             paths[i][common] == paths[j][common]) {
        ++common;
      }
      closeness[i][j] = static_cast<int>(common);
      any = any || common > 0;
    }
  }
  if (any) inventory->topology.pci_closeness = std::move(closeness);
}

}  // namespace berth::gpu
