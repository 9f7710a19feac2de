#include "agent/devices/device_selection.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace berth::agent::devices {

absl::StatusOr<std::vector<std::string>> SelectDevices(const SelectionRequest& request) {
  std::set<std::string> pool(request.available.begin(), request.available.end());
  pool.insert(request.must_include.begin(), request.must_include.end());
  if (static_cast<int64_t>(pool.size()) < request.needed) {
    return absl::ResourceExhaustedError(absl::StrCat("requested number of devices unavailable for ",
                                                     request.resource, ". Requested: ", request.needed,
                                                     ", Available: ", pool.size()));
  }
  std::vector<std::string> chosen;
  std::set<std::string> taken;
  auto take = [&](const std::string& id) {
    if (static_cast<int64_t>(chosen.size()) >= request.needed) return;
    if (!pool.count(id) || !taken.insert(id).second) return;
    chosen.push_back(id);
  };
  for (const auto& id : request.must_include) take(id);
  for (const auto& id : request.preferred) take(id);
  for (const auto& id : request.available) take(id);
  return chosen;
}

}  // namespace berth::agent::devices
