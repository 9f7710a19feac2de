// berth-portmap's nftables rules, as nft command text (pure functions of the
// config and of a listing of the table, so they are unit-tested as text).
//
//   table inet berth-portmap {
//     map dnat4   { type ipv4_addr . inet_proto . inet_service : verdict }  # hostIP given
//     map dnat6   { type ipv6_addr . inet_proto . inet_service : verdict }
//     map dnatany { type inet_proto . inet_service : verdict }              # every address
//     chain prerouting  (nat, dstnat): fib daddr type local -> the three vmaps
//     chain output      (nat, -100):   the same, for the node's own connections
//                                       (localhost included; ::1 cannot be DNATed)
//     chain postrouting (nat, srcnat): meta mark & MASK == MASK masquerade
//     chain pm-<hash(network, id, ifname)> {       # one per attachment
//       <match> ip saddr { <pod subnet>, 127.0.0.0/8 } meta mark set meta mark | MASK
//       <match> dnat ip to <pod ip>:<containerPort>
//     }   with <match> = meta nfproto ipv4 [ip daddr <hostIP>] meta l4proto tcp th dport <hostPort>
//   }
//
// A key in a vmap belongs to one chain, so two attachments can never map the
// same host port: the kernel refuses a second key, and CheckConflicts names
// the holder before we try.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cni-plugins/portmap/portmap_config.h"
#include "nlohmann/json.hpp"

namespace berth::portmap {

inline constexpr char kTableFamily[] = "inet";
inline constexpr char kTableName[] = "berth-portmap";

// The attachment's chain: "pm-" + 16 hex digits.
std::string ChainName(const std::string& network, const std::string& container_id,
                      const std::string& ifname);
// The comment on its rules: "berth portmap net=<network> if=<ifname> id=<id>" (quoted).
std::string RuleComment(const std::string& network, const std::string& container_id,
                        const std::string& ifname);

// Where a mapping is dispatched: `map` ("dnat4", "dnat6", "dnatany") and the
// element key in nft syntax ("10.0.0.1 . tcp . 8080", "udp . 53"). None when
// the container has no address of the family the mapping is for.
struct DispatchKey {
  std::string map;
  std::string key;
  friend bool operator==(const DispatchKey&, const DispatchKey&) = default;
};
std::optional<DispatchKey> KeyFor(const PortMapping& m, const PortmapConfig& config);

// What the table still needs, given its listing (null: no table): the
// table, maps and base chains, and the base chains' rules (refilled when
// they differ in number, or in the mark for postrouting). Empty when all is
// in place, so a normal ADD deletes nothing (deleting is slow, see nft.h).
std::string SetupCommands(const nlohmann::json& listing, unsigned mark_mask);

// The attachment's chain (added, or flushed when `chain_exists`: a repeated
// ADD), its rules and its dispatch elements.
std::string AttachmentCommands(const PortmapConfig& config, const std::string& chain,
                               const std::string& comment, bool chain_exists);

// Deletes every dispatch element that jumps to `chain` (per `listing`, the
// "nftables" array; null for no table), and the chain when it exists.
// Empty when there is nothing of it.
std::string DeleteCommands(const nlohmann::json& listing, const std::string& chain);

// Only the dispatch elements of `chain` (the chain stays, for a refill).
std::string DeleteElementCommands(const nlohmann::json& listing, const std::string& chain);

// A clear error (CNI code 100) naming the host port and the attachment that
// holds it, when a mapping of `config` is dispatched to another chain.
absl::Status CheckConflicts(const PortmapConfig& config, const std::string& chain,
                            const nlohmann::json& listing);

// Every attachment chain ("pm-...") in the listing.
std::vector<std::string> AttachmentChains(const nlohmann::json& listing);

}  // namespace berth::portmap
