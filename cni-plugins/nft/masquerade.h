// IP masquerade for a container's addresses (the bridge plugin's ipMasq),
// with nftables. Rules live in `table inet berth-cni`:
//
//   chain masq-postrouting (nat, postrouting, srcnat):
//     ip saddr vmap @masq4; ip6 saddr vmap @masq6
//   map masq4 / masq6: container IP -> jump masq-<hash(network, id, ifname)>
//   chain masq-<hash>: daddr in each of the container's subnets -> return;
//     multicast (224.0.0.0/4, ff00::/8) -> return; else masquerade
//
// So traffic from the container's IP to anything outside its subnet (and not
// multicast) is masqueraded, as the reference bridge plugin's ipMasq does.
// Both calls are idempotent and act on the calling thread's network
// namespace (the host's, for a plugin). ADD of a new attachment is one
// transaction that only adds (~0.3 ms); DEL deletes, and the kernel makes
// the end of that call wait for an RCU grace period (see nft.h).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace berth::cniplugin {

// Masquerades traffic from each address in `container_cidrs` ("10.22.0.5/16",
// "fd00::5/64") leaving its subnet. A second call for the same (network,
// container id, ifname) replaces the first one's rules. A bad CIDR or an
// empty name is InvalidArgument naming it, and changes nothing.
absl::Status AddMasquerade(const std::string& network_name, const std::string& container_id,
                           const std::string& ifname,
                           const std::vector<std::string>& container_cidrs);

// Removes exactly the rules AddMasquerade made for (network, container id,
// ifname); nothing there is OK.
absl::Status DeleteMasquerade(const std::string& network_name, const std::string& container_id,
                              const std::string& ifname);

// The table (family and name) and the per-container chain's name, for tests
// and tools that list the rules.
inline constexpr char kMasqueradeTableFamily[] = "inet";
inline constexpr char kMasqueradeTableName[] = "berth-cni";
std::string MasqueradeChainName(const std::string& network_name, const std::string& container_id,
                                const std::string& ifname);

}  // namespace berth::cniplugin
