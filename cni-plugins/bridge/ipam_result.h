// The IPAM plugin's result as the bridge uses it (addresses, gateways,
// routes, dns), the reference bridge's gateway rules over it, and the
// bridge's own result JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cni-plugins/netlink/ip_prefix.h"
#include "nlohmann/json.hpp"

namespace berth::bridge {

struct PodIp {
  netlink::IpPrefix address;  // "10.22.0.5/16"
  std::optional<netlink::IpPrefix> gateway;  // a plain address
};

struct PodRoute {
  netlink::IpPrefix dst;
  std::optional<netlink::IpPrefix> gw;
};

struct IpamResult {
  std::vector<PodIp> ips;
  std::vector<PodRoute> routes;
  nlohmann::json dns = nlohmann::json::object();
};

// Parses an IPAM result of any supported version (0.3.x "version" fields
// ignored). A malformed one is CNI code 100 naming the field and value.
absl::StatusOr<IpamResult> ParseIpamResult(const nlohmann::json& json);

// The reference bridge's gateway rules: with `is_gateway`, an IP without a
// gateway gets its network's first address; with `is_default_gateway`, a
// default route via the family's gateway is added unless the result has a
// default route with a gateway already. Returns the bridge's gateway
// addresses (gateway with the IP's prefix length), in order.
std::vector<netlink::IpPrefix> ApplyGateways(IpamResult* result, bool is_gateway,
                                             bool is_default_gateway);

struct ResultInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for the container's interface
};

// The CNI result for `cni_version`: interfaces, ips (each on interface
// `container_index` of `interfaces`), routes, dns.
nlohmann::json ResultJson(const std::string& cni_version, const std::vector<ResultInterface>& interfaces,
                          const IpamResult& ipam, int container_index);

}  // namespace berth::bridge
