#include "device-plugin/proc_discovery.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "device-plugin/sysfs_pci.h"

namespace berth::gpu {

absl::StatusOr<GpuInformation> ParseGpuInformation(absl::string_view text, absl::string_view source) {
  GpuInformation info;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (!key.empty()) info.fields[key] = value;
  }
  auto field = [&](const char* key) -> std::string {
    auto it = info.fields.find(key);
    return it == info.fields.end() ? "" : it->second;
  };
  info.model = field("Model");
  info.uuid = field("GPU UUID");
  info.bus_location = field("Bus Location");
  if (info.uuid.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no \"GPU UUID\" line"));
  }
  std::string minor = field("Device Minor");
  if (minor.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no \"Device Minor\" line"));
  }
  // 255 is /dev/nvidiactl; a GPU's minor is below it.
  if (!absl::SimpleAtoi(minor, &info.minor) || info.minor < 0 || info.minor > 254) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": \"Device Minor\" is \"", minor, "\", want a number 0..254"));
  }
  return info;
}

absl::StatusOr<Inventory> DiscoverFromProcTree(const std::string& root) {
  Inventory inventory;
  inventory.source = "proc";
  std::string gpus_dir = JoinUnderRoot(root, "/proc/driver/nvidia/gpus");
  auto version = ReadFile(JoinUnderRoot(root, "/proc/driver/nvidia/version"));
  if (version.ok()) {
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 ..."
    std::vector<std::string> words = absl::StrSplit(*version, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    auto it = std::find(words.begin(), words.end(), "Module");
    if (it != words.end() && it + 1 != words.end()) inventory.driver_version = *(it + 1);
  }
  if (!PathExists(gpus_dir)) return inventory;
  auto listed = ListDir(gpus_dir);
  if (!listed.ok()) return Annotate(listed.status(), gpus_dir);
  const std::vector<std::string>& entries = *listed;
  std::vector<std::string> bus_ids;
  for (const auto& e : entries) bus_ids.push_back(NormalizePciBusId(e));
  std::sort(bus_ids.begin(), bus_ids.end());
  std::map<std::string, std::string> dir_of;
  for (const auto& e : entries) dir_of[NormalizePciBusId(e)] = e;
  for (const auto& bus_id : bus_ids) {
    std::string path = gpus_dir + "/" + dir_of[bus_id] + "/information";
    auto text = ReadFile(path);
    if (!text.ok()) return Annotate(text.status(), path);
    ASSIGN_OR_RETURN(GpuInformation info, ParseGpuInformation(*text, path));
    Gpu gpu;
    gpu.index = static_cast<int>(inventory.gpus.size());
    gpu.uuid = info.uuid;
    gpu.minor = info.minor;
    gpu.model = info.model;
    gpu.pci_bus_id = bus_id;
    gpu.device_path = JoinUnderRoot(root, absl::StrCat("/dev/nvidia", info.minor));
    for (const auto& other : inventory.gpus) {
      if (other.uuid == gpu.uuid || other.minor == gpu.minor) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": GPU UUID ", gpu.uuid, " / Device Minor ",
                                                       gpu.minor, " already used by ", other.pci_bus_id));
      }
    }
    inventory.gpus.push_back(std::move(gpu));
  }
  FillFromSysfs(root, &inventory);
  return inventory;
}

}  // namespace berth::gpu
