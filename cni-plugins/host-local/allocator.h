// host-local's allocations on disk: one file per IP under
// <dataDir>/<network>/ holding "<container id>\n<ifname>", a
// last_reserved_ip.<range set index> file per range set, and every change
// made under an exclusive flock on <dataDir>/<network>/lock.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cni-plugins/host-local/ipam_config.h"
#include "nlohmann/json.hpp"

namespace berth::hostlocal {

struct Allocation {
  Ip ip;
  IpRange range;  // the range it came from (for the prefix and gateway)
};

// One IP per range set for (container id, ifname): the existing one when it
// already holds one (idempotent), else the next free one after the set's
// last reserved, round-robin. An exhausted set fails naming its ranges, and
// releases what this call took from the sets before it.
absl::StatusOr<std::vector<Allocation>> Allocate(const IpamConfig& config,
                                                 const std::string& container_id,
                                                 const std::string& ifname);

// Frees every IP held by (container id, ifname); none held is fine.
absl::Status Release(const IpamConfig& config, const std::string& container_id,
                     const std::string& ifname);

// The IPs held by (container id, ifname), one per range set, or NotFound.
absl::StatusOr<std::vector<Allocation>> Find(const IpamConfig& config,
                                             const std::string& container_id,
                                             const std::string& ifname);

// Frees every IP whose (container id, ifname) is not in `valid`.
absl::Status GarbageCollect(const IpamConfig& config,
                            const std::set<std::pair<std::string, std::string>>& valid);

// The CNI result for the allocations: ips (with gateway), routes, dns.
nlohmann::json ResultJson(const IpamConfig& config, const std::vector<Allocation>& allocations,
                          const std::string& cni_version);

}  // namespace berth::hostlocal
