// berth-portmap's commands: ADD, DEL, CHECK and GC over the nftables rules
// of rules.h, in the calling thread's network namespace (the host's).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cni-plugins/common/plugin.h"
#include "nlohmann/json.hpp"

namespace berth::portmap {

// ADD: validates, refuses a host port another attachment holds, installs the
// attachment's rules in one transaction, sets route_localnet on the
// interface that routes to the pod's IPv4 address (so 127.0.0.1 can be
// DNATed there), and returns prevResult.
absl::StatusOr<nlohmann::json> Add(const cniplugin::PluginArgs& args);
// DEL: removes the attachment's chain and dispatch elements, found by
// (network, container id, ifname) alone: no prevResult needed. Idempotent.
absl::StatusOr<nlohmann::json> Del(const cniplugin::PluginArgs& args);
// CHECK: every mapping's dispatch element jumps to the attachment's chain.
absl::StatusOr<nlohmann::json> Check(const cniplugin::PluginArgs& args);
// GC: removes the chains of attachments not in cni.dev/valid-attachments.
absl::StatusOr<nlohmann::json> Gc(const cniplugin::PluginArgs& args);

// The name of the interface whose route (longest prefix in /proc/net/route
// of this network namespace) reaches `ipv4`; empty when none does.
std::string RouteInterfaceFor(const std::string& ipv4);

}  // namespace berth::portmap
