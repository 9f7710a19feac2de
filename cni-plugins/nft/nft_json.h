// Reading `nft -j list` output: map elements by verdict, chains, rules; and
// the stable hash that names a per-attachment chain.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace berth::cninft {

// 16 hex digits of FNV-1a 64 over `parts`, NUL-separated: names a chain
// after (network, container id, ifname) within nft's name limits.
std::string IdentityHash(std::initializer_list<absl::string_view> parts);

// An element key from the JSON listing as nft syntax ("10.0.0.1",
// "tcp . 8080", "10.0.0.0/8"); empty when it is of a form we do not write.
std::string KeyToNft(const nlohmann::json& key);

// The keys (nft syntax) of the elements of map `map` whose verdict is
// `jump <chain>` or `goto <chain>`, in a listing (the "nftables" array).
std::vector<std::string> MapKeysJumpingTo(const nlohmann::json& listing, absl::string_view map,
                                          absl::string_view chain);

// Each element of verdict map `map` as (key in nft syntax, jump/goto target).
std::vector<std::pair<std::string, std::string>> MapEntries(const nlohmann::json& listing,
                                                             absl::string_view map);

// Every element key (nft syntax) of set or map `name`.
std::vector<std::string> ElementKeys(const nlohmann::json& listing, absl::string_view name);

bool HasChain(const nlohmann::json& listing, absl::string_view chain);

// The rules of `chain` in the listing (each the "rule" object).
std::vector<nlohmann::json> RulesOf(const nlohmann::json& listing, absl::string_view chain);

// The number of rules in the whole listing.
int CountRules(const nlohmann::json& listing);

}  // namespace berth::cninft
