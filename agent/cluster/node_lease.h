// The node's Lease in kube-node-lease, as the kubelet keeps it: holder the
// node, leaseDurationSeconds 40, renewTime moved on every 10 s, owned by
// the Node (so it goes with it).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controlplane/client/api_client.h"

namespace berth::agent::cluster {

inline constexpr char kNodeLeaseNamespace[] = "kube-node-lease";
inline constexpr int kLeaseDurationSeconds = 40;

// The Lease object for `node` (uid: the Node's, for the owner reference; may be empty).
nlohmann::json NodeLease(const std::string& node, const std::string& node_uid, absl::Time renew);

// Creates the Lease, or moves its renewTime on (an update with its
// resourceVersion; retried once on a conflict).
absl::Status RenewNodeLease(client::ApiClient& api, const std::string& node, const std::string& node_uid,
                            absl::Time now);

}  // namespace berth::agent::cluster
