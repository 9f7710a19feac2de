// kube-public/cluster-info, as `kubeadm init` publishes it and `kubeadm join`
// discovers the cluster through it: a ConfigMap whose data["kubeconfig"] is a
// kubeconfig with the cluster's server and CA only (no user), and one
// data["jws-kubeconfig-<id>"] per signing bootstrap token
// (cluster_info_jws.h). Anyone may read it; the signature proves that a
// holder of the token wrote it, and the CA pin proves the CA is the one
// expected.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "nlohmann/json.hpp"

namespace berth::berthadm {

// The kubeconfig text cluster-info carries.
std::string ClusterInfoKubeconfig(const std::string& server, const std::string& ca_pem);

// The ConfigMap, signed with each of `tokens`.
nlohmann::json ClusterInfoConfigMap(const std::string& kubeconfig, const std::vector<BootstrapToken>& tokens);

struct DiscoveredCluster {
  std::string server;
  std::string ca_pem;
};

// What join does with the ConfigMap it fetched anonymously: the token's
// signature checked, then the CA against `ca_pins` (at least one, unless
// `unsafe_skip_ca_verification`). Errors say which check failed.
absl::StatusOr<DiscoveredCluster> DiscoverFromClusterInfo(const nlohmann::json& config_map,
                                                          const BootstrapToken& token,
                                                          const std::vector<std::string>& ca_pins,
                                                          bool unsafe_skip_ca_verification = false);

}  // namespace berth::berthadm
