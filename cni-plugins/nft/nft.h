// A thin wrapper over libnftables: run a batch of nft commands as one
// transaction and read state back as JSON. Every call acts on the network
// namespace of the calling thread (the netlink socket is opened per call).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace berth::cninft {

// Runs `commands` (nft syntax, one command per line or ';'-separated) as one
// atomic transaction: either all of them apply or none. The error names
// `what` and carries nft's own message; a missing object (ENOENT) is
// NotFound, an existing one where `create` or a map key clashes (EEXIST)
// AlreadyExists.
//
// Cost note: the kernel frees deleted objects after an RCU grace period, and
// closing the netlink socket (at the end of each call) waits for that when a
// deletion is pending: a transaction that deletes anything costs ~5-25 ms
// here, one that only adds ~0.3 ms. Keep deletions off hot paths.
absl::Status RunBatch(absl::string_view commands, absl::string_view what);

// `nft -j list <object>` (e.g. "table inet berth-cni", "map inet berth-cni masq4"):
// the "nftables" array. A missing object is NotFound.
absl::StatusOr<nlohmann::json> ListJson(absl::string_view object);

// True when `table <family> <name>` exists.
absl::StatusOr<bool> TableExists(absl::string_view family, absl::string_view name);

// Quotes `text` for an nft comment: at most 120 bytes, no quotes or
// backslashes, printable ASCII only.
std::string CommentLiteral(absl::string_view text);

}  // namespace berth::cninft
