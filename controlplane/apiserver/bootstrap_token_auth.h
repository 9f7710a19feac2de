// Bootstrap token authentication (kube-apiserver's
// --enable-bootstrap-token-auth): a bearer token "<id>.<secret>" is checked
// against the Secret kube-system/bootstrap-token-<id> (type
// bootstrap.kubernetes.io/token): its token-secret must match, its
// usage-bootstrap-authentication be "true", it must not have expired or be
// being deleted. The user is system:bootstrap:<id>, in system:bootstrappers,
// the Secret's auth-extra-groups (each under system:bootstrappers:) and
// system:authenticated. This is how `berthadm join` authenticates a new node.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controlplane/apiserver/authentication.h"
#include "nlohmann/json.hpp"

namespace berth::apiserver {

class BootstrapTokenAuthenticator {
 public:
  // Reads a kube-system Secret by name, decoded (nullopt when absent).
  using SecretLookup = std::function<std::optional<nlohmann::json>(const std::string& name)>;

  explicit BootstrapTokenAuthenticator(SecretLookup lookup, std::function<absl::Time()> now = absl::Now)
      : lookup_(std::move(lookup)), now_(std::move(now)) {}

  // Whether `token` has a bootstrap token's shape (else other authenticators
  // are asked).
  static bool LooksLikeBootstrapToken(absl::string_view token);

  // The token's user, or nullopt when it is not valid (a reason is logged,
  // never the secret).
  std::optional<UserInfo> Authenticate(absl::string_view token) const;

 private:
  SecretLookup lookup_;
  std::function<absl::Time()> now_;
};

}  // namespace berth::apiserver
