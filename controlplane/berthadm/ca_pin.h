// Public key pins for the cluster CA, as `kubeadm join
// --discovery-token-ca-cert-hash sha256:<hex>` takes them: the SHA-256 of the
// CA certificate's DER SubjectPublicKeyInfo (so a CA re-issued with the same
// key keeps its pin).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::berthadm {

// "sha256:<64 lower-case hex>" of the first certificate in `pem`.
absl::StatusOr<std::string> CaCertHash(const std::string& pem);

// Checks one pin's form ("sha256:" and 64 hex digits; upper case is
// accepted and lowered); the error names the pin.
absl::StatusOr<std::string> ParseCaCertHash(const std::string& pin);

// OK when the CA in `pem` matches one of `pins`; else PermissionDenied
// naming the CA's actual hash (what a person compares by eye).
absl::Status VerifyCaPin(const std::string& pem, const std::vector<std::string>& pins);

}  // namespace berth::berthadm
