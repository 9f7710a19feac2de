// berth-host-local: IPAM from ranges, allocations on disk (see allocator.h).
#include <set>

#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"
#include "cni-plugins/host-local/allocator.h"
#include "cni-plugins/host-local/ipam_config.h"

namespace berth::hostlocal {
namespace {

using cniplugin::PluginArgs;

absl::StatusOr<nlohmann::json> Add(const PluginArgs& args) {
  auto config = ParseIpamConfig(args.config);
  if (!config.ok()) return config.status();
  auto allocations = Allocate(*config, args.container_id, args.ifname);
  if (!allocations.ok()) return allocations.status();
  return ResultJson(*config, *allocations, args.cni_version);
}

absl::StatusOr<nlohmann::json> Del(const PluginArgs& args) {
  auto config = ParseIpamConfig(args.config);
  if (!config.ok()) return config.status();
  absl::Status s = Release(*config, args.container_id, args.ifname);
  if (!s.ok()) return s;
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Check(const PluginArgs& args) {
  auto config = ParseIpamConfig(args.config);
  if (!config.ok()) return config.status();
  auto found = Find(*config, args.container_id, args.ifname);
  if (!found.ok()) return found.status();
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Gc(const PluginArgs& args) {
  auto config = ParseIpamConfig(args.config);
  if (!config.ok()) return config.status();
  std::set<std::pair<std::string, std::string>> valid;
  auto it = args.config.find("cni.dev/valid-attachments");
  if (it != args.config.end() && !it->is_null()) {
    if (!it->is_array()) {
      return cniplugin::CniError(cniplugin::kInvalidConfig,
                                 "cni.dev/valid-attachments must be a list");
    }
    for (const auto& a : *it) {
      if (!a.is_object() || !a.value("containerID", nlohmann::json()).is_string() ||
          !a.value("ifname", nlohmann::json()).is_string()) {
        return cniplugin::CniError(cniplugin::kInvalidConfig,
                                   "cni.dev/valid-attachments: each needs containerID and ifname");
      }
      valid.insert({a["containerID"].get<std::string>(), a["ifname"].get<std::string>()});
    }
  }
  absl::Status s = GarbageCollect(*config, valid);
  if (!s.ok()) return s;
  return nlohmann::json();
}

}  // namespace
}  // namespace berth::hostlocal

int main() {
  berth::cniplugin::Handlers handlers;
  handlers.add = berth::hostlocal::Add;
  handlers.del = berth::hostlocal::Del;
  handlers.check = berth::hostlocal::Check;
  handlers.gc = berth::hostlocal::Gc;
  return berth::cniplugin::RunPlugin(handlers);
}
