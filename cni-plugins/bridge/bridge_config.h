// berth-bridge's network config: the reference bridge plugin's keys where
// they overlap (bridge, mtu, isGateway, isDefaultGateway, ipMasq,
// hairpinMode, promiscMode, forceAddress, ipam), plus the standard name,
// cniVersion, prevResult and runtimeConfig.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::bridge {

inline constexpr char kDefaultBridge[] = "cni0";

struct BridgeConfig {
  std::string network_name;
  std::string cni_version;
  std::string bridge = kDefaultBridge;
  unsigned mtu = 0;  // 0: the kernel's default
  bool is_gateway = false;
  bool is_default_gateway = false;  // implies is_gateway
  bool ip_masq = false;
  bool hairpin_mode = false;
  bool promisc_mode = false;
  bool force_address = false;
  std::string ipam_type;          // "" : layer 2 only, no addresses
  nlohmann::json prev_result;     // null when absent
  nlohmann::json runtime_config;  // object (empty when absent)
  std::string runtime_mac;        // runtimeConfig.mac, when given
};

// Parses and checks `config`; a bad value is CNI code 7 naming the field and
// the value ("bridge config: mtu must be an integer 68..65535, not 9").
absl::StatusOr<BridgeConfig> ParseBridgeConfig(const nlohmann::json& config);

// True when `name` is a usable Linux interface name (1..15 bytes, no '/',
// ':' or whitespace, not "." or "..").
bool ValidInterfaceName(const std::string& name);

// The host side of the pod's veth: "veth" + 8 hex digits of a hash of
// (network, container id, ifname), so DEL finds it without the netns.
std::string HostVethName(const std::string& network, const std::string& container_id,
                         const std::string& ifname);

// A free-form "veth" + 8 random hex digits, for when HostVethName's name is
// held by another attachment (a hash collision).
std::string RandomHostVethName();

// What the host veth's alias (IFLA_IFALIAS) says, so that DEL and a repeated
// ADD only ever touch the veth of this attachment: "berth-bridge <network>
// <container id> <ifname>" (a hash of it when longer than 255 bytes).
std::string VethOwner(const std::string& network, const std::string& container_id,
                      const std::string& ifname);

}  // namespace berth::bridge
