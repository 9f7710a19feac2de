#include "agent/cluster/node_lease.h"

#include "absl/strings/str_cat.h"
#include "agent/cluster/node_status.h"
#include "common/errors.h"

namespace berth::agent::cluster {

nlohmann::json NodeLease(const std::string& node, const std::string& node_uid, absl::Time renew) {
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", node}, {"namespace", kNodeLeaseNamespace}}},
                          {"spec",
                           {{"holderIdentity", node},
                            {"leaseDurationSeconds", kLeaseDurationSeconds},
                            {"renewTime", ApiMicroTime(renew)}}}};
  if (!node_uid.empty()) {
    lease["metadata"]["ownerReferences"] = {
        {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}, {"uid", node_uid}}};
  }
  return lease;
}

absl::Status RenewNodeLease(client::ApiClient& api, const std::string& node, const std::string& node_uid,
                            absl::Time now) {
  for (int attempt = 0;; ++attempt) {
    auto current = api.Get(client::resources::kLeases, kNodeLeaseNamespace, node);
    if (absl::IsNotFound(current.status())) {
      auto created = api.Create(client::resources::kLeases, kNodeLeaseNamespace, NodeLease(node, node_uid, now));
      if (created.ok() || !absl::IsAlreadyExists(created.status()) || attempt > 0) {
        return created.ok() ? absl::OkStatus() : Annotate(created.status(), "create the node lease");
      }
      continue;
    }
    if (!current.ok()) return Annotate(current.status(), "get the node lease");
    nlohmann::json lease = *current;
    nlohmann::json wanted = NodeLease(node, node_uid, now);
    lease["spec"]["holderIdentity"] = node;
    lease["spec"]["leaseDurationSeconds"] = kLeaseDurationSeconds;
    lease["spec"]["renewTime"] = wanted["spec"]["renewTime"];
    if (wanted["metadata"].contains("ownerReferences")) {
      lease["metadata"]["ownerReferences"] = wanted["metadata"]["ownerReferences"];
    }
    auto updated = api.Update(client::resources::kLeases, kNodeLeaseNamespace, lease);
    if (updated.ok()) return absl::OkStatus();
    if (!absl::IsAborted(updated.status()) || attempt > 0) return Annotate(updated.status(), "renew the node lease");
  }
}

}  // namespace berth::agent::cluster
