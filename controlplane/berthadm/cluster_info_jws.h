// The signatures in kube-public/cluster-info, as kubeadm writes and checks
// them: for each signing bootstrap token, data["jws-kubeconfig-<id>"] holds a
// JWS (RFC 7515) in compact form with a detached payload,
// "<base64url header>..<base64url signature>", header {"alg":"HS256",
// "kid":"<id>"}, the signature HMAC-SHA256 keyed by the token's secret over
// "<base64url header>.<base64url of data["kubeconfig"]>". A joining node that
// knows the token can so tell the cluster-info it fetched anonymously is the
// one its token's issuer signed.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "controlplane/berthadm/bootstrap_token.h"

namespace berth::berthadm {

// The ConfigMap data key for `token_id`'s signature.
std::string ClusterInfoSignatureKey(const std::string& token_id);

// The detached JWS of `payload` with `token`.
std::string SignDetachedJws(const std::string& payload, const BootstrapToken& token);

// OK when `jws` is `token`'s signature of `payload`; else PermissionDenied
// (or InvalidArgument for a malformed JWS) saying what did not match.
absl::Status VerifyDetachedJws(const std::string& jws, const std::string& payload, const BootstrapToken& token);

}  // namespace berth::berthadm
