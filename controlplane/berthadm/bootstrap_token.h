// Bootstrap tokens as kubeadm makes them: "<id>.<secret>", a 6-character id
// and a 16-character secret of [a-z0-9], stored as a Secret
// "bootstrap-token-<id>" of type bootstrap.kubernetes.io/token in
// kube-system. A joining node authenticates with one (as
// system:bootstrap:<id> in system:bootstrappers) and checks cluster-info's
// signature with it (cluster_info_jws.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace berth::berthadm {

struct BootstrapToken {
  std::string id;      // [a-z0-9]{6}, public
  std::string secret;  // [a-z0-9]{16}
  std::string ToString() const { return id + "." + secret; }
};

// A fresh token from the kernel's random bytes.
absl::StatusOr<BootstrapToken> GenerateBootstrapToken();

// "abcdef.0123456789abcdef"; an error naming what is wrong otherwise (the
// secret is never echoed back).
absl::StatusOr<BootstrapToken> ParseBootstrapToken(const std::string& text);

// kubeadm's default: usable for a day.
inline constexpr absl::Duration kDefaultBootstrapTokenTtl = absl::Hours(24);

// The Secret that makes `token` valid (ttl 0: it never expires), with both
// usages (authentication, signing) and kubeadm's extra group for joining
// nodes.
nlohmann::json BootstrapTokenSecret(const BootstrapToken& token, absl::Duration ttl, absl::Time now,
                                    const std::string& description);

// Whether a bootstrap-token Secret is still usable at `now` (its expiration,
// RFC 3339, in the past: not). A malformed expiration is an error.
absl::StatusOr<bool> BootstrapTokenSecretValid(const nlohmann::json& secret, absl::Time now);

}  // namespace berth::berthadm
