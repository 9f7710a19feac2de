// A CNI ADD result (spec 0.3.0 .. 1.1.0): interfaces, IPs, routes, DNS.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::cni {

struct CniInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for interfaces inside the pod; empty on the host
  int mtu = 0;
};

struct CniIp {
  std::string address;  // CIDR, "10.244.1.5/24" or "fd00::5/64"
  std::string gateway;
  std::optional<int> interface;  // index into CniResult::interfaces
  bool IsV6() const { return address.find(':') != std::string::npos; }
  std::string Addr() const { return address.substr(0, address.find('/')); }
};

struct CniRoute {
  std::string dst;
  std::string gw;
};

struct CniDns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

struct CniResult {
  std::string cni_version;
  std::vector<CniInterface> interfaces;
  std::vector<CniIp> ips;
  std::vector<CniRoute> routes;
  CniDns dns;
  nlohmann::json raw;  // as the last plugin printed it (passed on as prevResult)

  // The pod's addresses (no prefix length): the first IPv4 then the first
  // IPv6 on `ifname` (an IP with no interface index counts as on it).
  std::vector<std::string> PodIPs(const std::string& ifname = "eth0") const;
};

// Parses a result object; `plugin` names the producer in errors.
absl::StatusOr<CniResult> ParseCniResult(const nlohmann::json& json, const std::string& plugin);

}  // namespace berth::cni
