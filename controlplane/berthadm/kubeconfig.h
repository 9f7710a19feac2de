// Kubeconfig files as kubeadm writes them under /etc/kubernetes: one
// cluster (server URL and the CA inline), one user with a client
// certificate and key inline, one context. berth's authorizer lets
// system:masters do everything, so admin.conf's user is in that group.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/berthadm/pki.h"
#include "nlohmann/json.hpp"

namespace berth::berthadm {

// A kubeconfig (as JSON; kubectl reads it as YAML too).
nlohmann::json Kubeconfig(const std::string& server, const std::string& ca_pem, const std::string& user,
                          const KeyAndCert& client, const std::string& cluster_name = "kubernetes");

struct KubeconfigFile {
  std::string file;          // "admin.conf"
  std::string user;          // the certificate's CN
  std::vector<std::string> groups;  // its O
};

// admin.conf (kubernetes-admin in system:masters), controller-manager.conf,
// scheduler.conf and kubelet.conf (system:node:<node_name> in system:nodes).
std::vector<KubeconfigFile> StandardKubeconfigs(const std::string& node_name);

// Writes each of `files` into `dir` (0600, YAML) with a client certificate
// signed by the CA in `pki_dir`; an existing file is kept when it points at
// `server` and its certificate was signed by that CA, else refused naming it.
// Returns the files written.
absl::StatusOr<std::vector<std::string>> WriteKubeconfigs(const std::string& pki_dir, const std::string& dir,
                                                          const std::string& server,
                                                          const std::vector<KubeconfigFile>& files,
                                                          absl::Duration validity = absl::Hours(24 * 365));

// `berthadm certs renew all` for the kubeconfigs: each of `files` present
// in `dir` gets a new client certificate from the CA in `pki_dir` (same
// user and groups, same server); one signed by another CA is refused
// naming it. Returns the files renewed (missing ones are skipped).
absl::StatusOr<std::vector<std::string>> RenewKubeconfigs(const std::string& pki_dir, const std::string& dir,
                                                          const std::vector<KubeconfigFile>& files,
                                                          absl::Duration validity = absl::Hours(24 * 365));

}  // namespace berth::berthadm
