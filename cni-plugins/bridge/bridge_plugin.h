// berth-bridge's commands: ADD (bridge, veth pair, delegated IPAM, addresses,
// routes, gateway, ipMasq), DEL, CHECK, and GC / STATUS delegated to IPAM.
#pragma once

#include "absl/status/statusor.h"
#include "cni-plugins/common/plugin.h"
#include "nlohmann/json.hpp"

namespace berth::bridge {

// BERTH_CNI_TRACE=1: "<phase> <us since the first mark>" on stderr.
void TraceMark(const char* phase);

absl::StatusOr<nlohmann::json> Add(const cniplugin::PluginArgs& args);
absl::StatusOr<nlohmann::json> Del(const cniplugin::PluginArgs& args);
absl::StatusOr<nlohmann::json> Check(const cniplugin::PluginArgs& args);
// GC and STATUS: passed on to the IPAM plugin (nothing to do without one).
absl::StatusOr<nlohmann::json> Gc(const cniplugin::PluginArgs& args);
absl::StatusOr<nlohmann::json> Status(const cniplugin::PluginArgs& args);

}  // namespace berth::bridge
