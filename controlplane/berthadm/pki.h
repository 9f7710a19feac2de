// The cluster's certificates, as `kubeadm init` lays them out under
// /etc/kubernetes/pki: ca, apiserver (serving, with the SANs clients use),
// apiserver-kubelet-client, front-proxy-ca and front-proxy-client, and the
// service-account key pair sa.key / sa.pub. Keys are ECDSA P-256 (kubeadm's
// ECDSA option), certificates signed with SHA-256.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::berthadm {

struct KeyAndCert {
  std::string key_pem;   // PKCS#8 private key
  std::string cert_pem;
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;
  bool is_ca = false;
  bool server_auth = false;
  bool client_auth = false;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // textual IPv4 or IPv6
  absl::Duration validity = absl::Hours(24 * 365);
};

// A new key and a certificate for it: self-signed when `signer` is null.
absl::StatusOr<KeyAndCert> IssueCertificate(const CertSpec& spec, const KeyAndCert* signer);

// A certificate (PEM) for an existing public key (PEM SubjectPublicKeyInfo),
// signed by `signer`: what signing a CSR makes.
absl::StatusOr<std::string> IssueCertificateForPublicKey(const CertSpec& spec, const std::string& public_key_pem,
                                                         const KeyAndCert& signer);

// What a certificate says, for `certs check-expiration` and for reusing
// what is already on disk.
struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  absl::Time not_before;
  absl::Time not_after;
};
absl::StatusOr<CertificateInfo> ParseCertificate(const std::string& pem);

// OK when `cert_pem` was signed by `ca_cert_pem` (signature only).
absl::Status VerifySignedBy(const std::string& cert_pem, const std::string& ca_cert_pem);

struct ClusterPkiOptions {
  std::string dir;                       // /etc/kubernetes/pki
  std::string node_name;
  std::string advertise_address;         // an IP
  std::string service_cidr = "10.96.0.0/12";  // its first address is a SAN
  std::string dns_domain = "cluster.local";
  std::vector<std::string> extra_sans;   // IPs or DNS names
  absl::Duration ca_validity = absl::Hours(24 * 365 * 10);
  absl::Duration cert_validity = absl::Hours(24 * 365);
};

// What WriteClusterPki did with each file.
struct PkiFileResult {
  std::string file;   // e.g. "apiserver.crt"
  bool created = false;  // false: an existing valid one was kept
};

// Creates what is missing; keeps an existing certificate that parses, is
// signed by the CA on disk, has not expired and (for the apiserver) covers
// every wanted SAN. An existing file that fails those checks is an error
// naming it and why (nothing is overwritten), as kubeadm refuses.
absl::StatusOr<std::vector<PkiFileResult>> WriteClusterPki(const ClusterPkiOptions& options, absl::Time now);

// `berthadm certs renew all` for the PKI: each leaf certificate (apiserver,
// apiserver-kubelet-client, front-proxy-client) issued again by its CA on
// disk with a new key, the same subject and SANs, valid for `validity` from
// now; the CAs and sa.* stay. A missing leaf or one not signed by its CA is
// an error naming it, and nothing is changed for it. Returns the files renewed.
absl::StatusOr<std::vector<std::string>> RenewClusterPki(const std::string& dir,
                                                         absl::Duration validity = absl::Hours(24 * 365));

// The files WriteClusterPki makes in its dir ("ca.crt", "ca.key", ...,
// "sa.key", "sa.pub"): what `berthadm reset` removes.
std::vector<std::string> ClusterPkiFileNames();

// The apiserver certificate's SANs for `options` (kubernetes,
// kubernetes.default, ...svc, ...svc.<domain>, the node name, the service
// CIDR's first address, the advertise address, the extra SANs).
absl::StatusOr<std::pair<std::vector<std::string>, std::vector<std::string>>> ApiServerSans(
    const ClusterPkiOptions& options);

}  // namespace berth::berthadm
