// `berthadm token create / list / delete` and init's bootstrap-token phase,
// over the API (any ApiClient: HTTPS with admin.conf, or in process in
// tests). berth has no bootstrap-signer controller, so these keep
// kube-public/cluster-info's signatures in step themselves: a created
// signing token adds its jws-kubeconfig-<id>, a deleted one removes it.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/client/api_client.h"

namespace berth::berthadm {

// Publishes kube-public/cluster-info (server and CA; signed with `tokens`),
// creating it or replacing its kubeconfig and signatures.
absl::Status UploadClusterInfo(client::ApiClient& api, const std::string& server, const std::string& ca_pem,
                               const std::vector<BootstrapToken>& tokens);

// Creates the token's Secret (AlreadyExists when its id is taken) and signs
// cluster-info with it when cluster-info exists.
absl::Status CreateToken(client::ApiClient& api, const BootstrapToken& token, absl::Duration ttl,
                         const std::string& description, absl::Time now);

struct TokenRow {
  std::string token;  // "<id>.<secret>"
  std::string ttl;    // "23h", "<forever>", "<invalid>" when expired
  std::string expires;
  std::string usages;  // "authentication,signing"
  std::string description;
  std::string extra_groups;
};

// Every bootstrap-token Secret in kube-system, by id.
absl::StatusOr<std::vector<TokenRow>> ListTokens(client::ApiClient& api, absl::Time now);
// kubeadm's table: TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS.
std::string TokenTable(const std::vector<TokenRow>& rows);

// Deletes the token named by its id or by the whole token (NotFound naming
// it when there is none) and its cluster-info signature.
absl::Status DeleteToken(client::ApiClient& api, const std::string& id_or_token);

}  // namespace berth::berthadm
