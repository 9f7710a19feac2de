// berth-portmap's input: the network config keys it honours, the
// runtimeConfig.portMappings the runtime passes, and the container's
// addresses from prevResult.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cni-plugins/nft/address.h"
#include "nlohmann/json.hpp"

namespace berth::portmap {

struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";  // tcp, udp or sctp
  // The host address it is restricted to (canonical text); empty: every
  // address of the node, and localhost.
  std::string host_ip;
  bool host_ip_v6 = false;
  // 0: both families; 4 or 6: only that one ("0.0.0.0" / "::" as hostIP,
  // or a specific hostIP of that family).
  int family = 0;

  std::string Describe() const;  // "8080/tcp" or "10.0.0.1:8080/tcp"
};

struct PortmapConfig {
  std::string network_name;
  std::string cni_version;
  bool snat = true;         // "snat": masquerade hairpin and localhost traffic
  int mark_masq_bit = 13;   // "markMasqBit": 0..31, the packet mark bit for that
  std::vector<PortMapping> mappings;
  std::optional<cninft::Cidr> container_v4;  // first IPv4 of the container (prevResult)
  std::optional<cninft::Cidr> container_v6;
  nlohmann::json prev_result;  // null when absent

  unsigned MarkMask() const { return 1u << mark_masq_bit; }
};

// Parses the stdin config. `need_prev_result`: ADD and CHECK need one
// (a chained plugin); DEL and GC do not. Errors are CNI code 7 naming the
// field ("runtimeConfig.portMappings[1].protocol: ...").
absl::StatusOr<PortmapConfig> ParsePortmapConfig(const nlohmann::json& config,
                                                 bool need_prev_result);

}  // namespace berth::portmap
