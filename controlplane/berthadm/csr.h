// Certificate signing requests for TLS bootstrap, as `kubeadm join` and the
// kubelet make them and the control plane checks and signs them
// (certificates.k8s.io/v1 CertificateSigningRequest's spec.request is this
// PEM): the joining node's client request, its parsing (the request's own
// signature verified), kube-controller-manager's approval rule for node
// client certificates, and signing with the cluster CA.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/berthadm/pki.h"

namespace berth::berthadm {

struct KeyAndCsr {
  std::string key_pem;  // PKCS#8, stays on the node
  std::string csr_pem;  // "-----BEGIN CERTIFICATE REQUEST-----"
};

// A new P-256 key and a request for CN=system:node:<node_name>,
// O=system:nodes, no SANs: the kubelet's client certificate request.
absl::StatusOr<KeyAndCsr> MakeNodeClientCsr(const std::string& node_name);

struct CsrInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> email_addresses;
  std::string public_key_pem;
};

// The request's subject, SANs and public key, once its signature is checked
// (a request whose signature does not verify is refused).
absl::StatusOr<CsrInfo> ParseCsr(const std::string& pem);

// kube-controller-manager's rule for kubernetes.io/kube-apiserver-client-kubelet:
// CN "system:node:<name>" with a name, O exactly ["system:nodes"], no SANs,
// and usages within {"digital signature", "key encipherment", "client auth"}
// including "client auth". The error names what does not fit.
absl::Status CheckNodeClientCsr(const CsrInfo& csr, const std::vector<std::string>& usages);

// A client certificate for the request's key, subject and SANs, signed by
// `ca`, valid for `validity`.
absl::StatusOr<std::string> SignClientCsr(const std::string& csr_pem, const KeyAndCert& ca, absl::Duration validity);

}  // namespace berth::berthadm
