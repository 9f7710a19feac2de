#include "controlplane/berthadm/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/openssl_util.h"

namespace berth::berthadm {
namespace {

using Cert = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;

absl::Status OpenSslError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, " (openssl)"));
}

absl::StatusOr<Cert> ReadCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  return cert;
}

absl::StatusOr<PKey> ReadKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  return key;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) return absl::InvalidArgumentError(absl::StrCat("certificate extension \"", value, "\""));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus() : OpenSslError("add a certificate extension");
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

absl::Time FromAsn1(const ASN1_TIME* t) {
  std::tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&tm));
}

}  // namespace

namespace {

// A certificate for `subject_key` (a public key) as `spec` says, signed by
// `signer`, or self-signed with `subject_key` (then a private key) when
// `signer` is null.
absl::StatusOr<Cert> MakeCertificate(const CertSpec& spec, EVP_PKEY* subject_key, const KeyAndCert* signer) {
  if (spec.common_name.empty()) return absl::InvalidArgumentError("certificate: common name is empty");
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>> serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  std::time_t now = std::time(nullptr);
  // A little slack for clocks slightly behind, as kubeadm does.
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), now - 5 * 60);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), now + absl::ToInt64Seconds(spec.validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : spec.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_pubkey(cert.get(), subject_key);

  Cert issuer_cert;
  PKey issuer_key;
  if (signer != nullptr) {
    ASSIGN_OR_RETURN(issuer_cert, ReadCert(signer->cert_pem));
    ASSIGN_OR_RETURN(issuer_key, ReadKey(signer->key_pem));
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, signer != nullptr ? issuer_cert.get() : cert.get(), cert.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints,
                               spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage,
                               spec.is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                                          : "critical,digitalSignature,keyEncipherment"));
  std::vector<std::string> usages;
  if (spec.server_auth) usages.push_back("serverAuth");
  if (spec.client_auth) usages.push_back("clientAuth");
  if (!usages.empty()) RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, absl::StrJoin(usages, ",")));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (signer != nullptr) {
    RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  }
  std::vector<std::string> sans;
  for (const auto& d : spec.dns_names) sans.push_back("DNS:" + d);
  for (const auto& ip : spec.ip_addresses) {
    if (!IsIp(ip)) return absl::InvalidArgumentError(absl::StrCat("certificate: \"", ip, "\" is not an IP address"));
    sans.push_back("IP:" + ip);
  }
  if (!sans.empty()) RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, absl::StrJoin(sans, ",")));
  if (X509_sign(cert.get(), signer != nullptr ? issuer_key.get() : subject_key, EVP_sha256()) == 0) {
    return OpenSslError("sign the certificate");
  }
  return cert;
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("encode the certificate as PEM");
  return BioText(bio.get());
}

}  // namespace

absl::StatusOr<KeyAndCert> IssueCertificate(const CertSpec& spec, const KeyAndCert* signer) {
  if (spec.common_name.empty()) return absl::InvalidArgumentError("certificate: common name is empty");
  PKey key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("generate a P-256 key");
  ASSIGN_OR_RETURN(Cert cert, MakeCertificate(spec, key.get(), signer));
  Bio key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("encode the key as PEM");
  }
  ASSIGN_OR_RETURN(std::string cert_pem, CertPem(cert.get()));
  return KeyAndCert{BioText(key_bio.get()), cert_pem};
}

absl::StatusOr<std::string> IssueCertificateForPublicKey(const CertSpec& spec, const std::string& public_key_pem,
                                                         const KeyAndCert& signer) {
  Bio bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  PKey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM public key");
  ASSIGN_OR_RETURN(Cert cert, MakeCertificate(spec, key.get(), &signer));
  return CertPem(cert.get());
}

absl::StatusOr<CertificateInfo> ParseCertificate(const std::string& pem) {
  ASSIGN_OR_RETURN(Cert cert, ReadCert(pem));
  CertificateInfo info;
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(e);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) info.common_name = value;
    if (nid == NID_organizationName) info.organizations.push_back(value);
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                  static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(n->d.iPAddress);
      const unsigned char* bytes = ASN1_STRING_get0_data(n->d.iPAddress);
      if (inet_ntop(len == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text) != nullptr && (len == 4 || len == 16)) {
        info.ip_addresses.emplace_back(text);
      }
    }
  }
  GENERAL_NAMES_free(names);
  info.is_ca = X509_check_ca(cert.get()) != 0;
  info.not_before = FromAsn1(X509_get0_notBefore(cert.get()));
  info.not_after = FromAsn1(X509_get0_notAfter(cert.get()));
  return info;
}

absl::Status VerifySignedBy(const std::string& cert_pem, const std::string& ca_cert_pem) {
  ASSIGN_OR_RETURN(Cert cert, ReadCert(cert_pem));
  ASSIGN_OR_RETURN(Cert ca, ReadCert(ca_cert_pem));
  if (X509_verify(cert.get(), X509_get0_pubkey(ca.get())) != 1) {
    return absl::FailedPreconditionError("not signed by this CA");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::vector<std::string>, std::vector<std::string>>> ApiServerSans(
    const ClusterPkiOptions& options) {
  std::vector<std::string> dns = {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                  "kubernetes.default.svc." + options.dns_domain};
  std::vector<std::string> ips;
  if (!options.node_name.empty()) dns.push_back(options.node_name);
  // The service CIDR's first address: the `kubernetes` Service's ClusterIP.
  size_t slash = options.service_cidr.find('/');
  std::string net = options.service_cidr.substr(0, slash);
  std::array<unsigned char, 16> bytes{};
  int family = net.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int bits = 0;
  if (slash == std::string::npos || inet_pton(family, net.c_str(), bytes.data()) != 1 ||
      !absl::SimpleAtoi(options.service_cidr.substr(slash + 1), &bits) || bits < 0 ||
      bits >= (family == AF_INET ? 32 : 128)) {
    return absl::InvalidArgumentError(absl::StrCat("service-cidr \"", options.service_cidr, "\" is not a CIDR"));
  }
  int len = family == AF_INET ? 4 : 16;
  for (int i = len - 1; i >= 0 && ++bytes[i] == 0; --i) {
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof text);
  ips.emplace_back(text);
  if (!options.advertise_address.empty()) {
    if (!IsIp(options.advertise_address)) {
      return absl::InvalidArgumentError(
          absl::StrCat("apiserver-advertise-address \"", options.advertise_address, "\" is not an IP address"));
    }
    ips.push_back(options.advertise_address);
  }
  for (const auto& san : options.extra_sans) (IsIp(san) ? ips : dns).push_back(san);
  return std::make_pair(dns, ips);
}

namespace {

struct Wanted {
  std::string name;          // file stem
  CertSpec spec;
  std::string signer;        // stem of the signing CA ("" : self-signed)
};

absl::Status CheckExisting(const std::string& dir, const Wanted& w, const std::string& pem,
                           const std::string& ca_pem, absl::Time now) {
  auto why = [&](const std::string& reason) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, "/", w.name, ".crt exists but ", reason, "; remove it (and its key) to have it made again"));
  };
  auto info = ParseCertificate(pem);
  if (!info.ok()) return why(std::string(info.status().message()));
  if (info->not_after <= now) return why(absl::StrCat("expired at ", absl::FormatTime(info->not_after)));
  if (!w.signer.empty()) {
    if (!VerifySignedBy(pem, ca_pem).ok()) return why(absl::StrCat("is not signed by ", w.signer, ".crt"));
  }
  for (const auto& d : w.spec.dns_names) {
    if (std::find(info->dns_names.begin(), info->dns_names.end(), d) == info->dns_names.end()) {
      return why(absl::StrCat("lacks the SAN DNS:", d));
    }
  }
  for (const auto& ip : w.spec.ip_addresses) {
    if (std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) == info->ip_addresses.end()) {
      return why(absl::StrCat("lacks the SAN IP:", ip));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<PkiFileResult>> WriteClusterPki(const ClusterPkiOptions& options, absl::Time now) {
  if (options.dir.empty()) return absl::InvalidArgumentError("cert-dir is empty");
  ASSIGN_OR_RETURN(auto sans, ApiServerSans(options));
  RETURN_IF_ERROR(MkdirAll(options.dir, 0755));
  const absl::Duration leaf = options.cert_validity;
  std::vector<Wanted> wanted = {
      {"ca", {.common_name = "kubernetes", .is_ca = true, .validity = options.ca_validity}, ""},
      {"apiserver",
       {.common_name = "kube-apiserver", .server_auth = true, .dns_names = sans.first,
        .ip_addresses = sans.second, .validity = leaf},
       "ca"},
      {"apiserver-kubelet-client",
       {.common_name = "kube-apiserver-kubelet-client", .organizations = {"kubeadm:cluster-admins"},
        .client_auth = true, .validity = leaf},
       "ca"},
      {"front-proxy-ca", {.common_name = "front-proxy-ca", .is_ca = true, .validity = options.ca_validity}, ""},
      {"front-proxy-client", {.common_name = "front-proxy-client", .client_auth = true, .validity = leaf},
       "front-proxy-ca"},
  };
  std::vector<PkiFileResult> results;
  std::map<std::string, KeyAndCert> made;
  for (const auto& w : wanted) {
    std::string crt = absl::StrCat(options.dir, "/", w.name, ".crt");
    std::string key = absl::StrCat(options.dir, "/", w.name, ".key");
    const KeyAndCert* signer = w.signer.empty() ? nullptr : &made[w.signer];
    if (PathExists(crt) || PathExists(key)) {
      auto pem = ReadFile(crt);
      auto key_pem = ReadFile(key);
      if (!pem.ok() || !key_pem.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat(w.name, ": only one of ", crt, " and ", key, " exists (or is unreadable)"));
      }
      RETURN_IF_ERROR(CheckExisting(options.dir, w, *pem, signer != nullptr ? signer->cert_pem : "", now));
      made[w.name] = KeyAndCert{*key_pem, *pem};
      results.push_back({w.name + ".crt", false});
      continue;
    }
    ASSIGN_OR_RETURN(KeyAndCert issued, IssueCertificate(w.spec, signer));
    RETURN_IF_ERROR(AtomicWriteFile(key, issued.key_pem, 0600));
    RETURN_IF_ERROR(AtomicWriteFile(crt, issued.cert_pem, 0644));
    made[w.name] = issued;
    results.push_back({w.name + ".crt", true});
  }
  // The service-account signing key pair (no certificate).
  std::string sa_key = options.dir + "/sa.key", sa_pub = options.dir + "/sa.pub";
  if (PathExists(sa_key)) {
    auto pem = ReadFile(sa_key);
    if (!pem.ok() || !ReadKey(*pem).ok() || !PathExists(sa_pub)) {
      return absl::FailedPreconditionError(
          absl::StrCat(sa_key, " exists but is not a private key, or sa.pub is missing"));
    }
    results.push_back({"sa.key", false});
  } else {
    PKey key(EVP_EC_gen("P-256"));
    if (key == nullptr) return OpenSslError("generate the service-account key");
    Bio priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
      return OpenSslError("encode the service-account key");
    }
    RETURN_IF_ERROR(AtomicWriteFile(sa_key, BioText(priv.get()), 0600));
    RETURN_IF_ERROR(AtomicWriteFile(sa_pub, BioText(pub.get()), 0644));
    results.push_back({"sa.key", true});
  }
  return results;
}

absl::StatusOr<std::vector<std::string>> RenewClusterPki(const std::string& dir, absl::Duration validity) {
  struct Leaf {
    const char* name;
    const char* signer;
    bool server_auth;
  };
  const Leaf leaves[] = {{"apiserver", "ca", true},
                         {"apiserver-kubelet-client", "ca", false},
                         {"front-proxy-client", "front-proxy-ca", false}};
  std::vector<std::string> renewed;
  for (const Leaf& leaf : leaves) {
    std::string crt = absl::StrCat(dir, "/", leaf.name, ".crt");
    KeyAndCert ca;
    ASSIGN_OR_RETURN(std::string pem, ReadFile(crt));
    ASSIGN_OR_RETURN(ca.cert_pem, ReadFile(absl::StrCat(dir, "/", leaf.signer, ".crt")));
    ASSIGN_OR_RETURN(ca.key_pem, ReadFile(absl::StrCat(dir, "/", leaf.signer, ".key")));
    if (!VerifySignedBy(pem, ca.cert_pem).ok()) {
      return absl::FailedPreconditionError(absl::StrCat(crt, " is not signed by ", leaf.signer, ".crt: not renewed"));
    }
    ASSIGN_OR_RETURN(CertificateInfo info, ParseCertificate(pem));
    CertSpec spec{.common_name = info.common_name,
                  .organizations = info.organizations,
                  .server_auth = leaf.server_auth,
                  .client_auth = !leaf.server_auth,
                  .dns_names = info.dns_names,
                  .ip_addresses = info.ip_addresses,
                  .validity = validity};
    ASSIGN_OR_RETURN(KeyAndCert issued, IssueCertificate(spec, &ca));
    RETURN_IF_ERROR(AtomicWriteFile(absl::StrCat(dir, "/", leaf.name, ".key"), issued.key_pem, 0600));
    RETURN_IF_ERROR(AtomicWriteFile(crt, issued.cert_pem, 0644));
    renewed.push_back(absl::StrCat(leaf.name, ".crt"));
  }
  return renewed;
}

std::vector<std::string> ClusterPkiFileNames() {
  std::vector<std::string> names;
  for (const char* base : {"ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "front-proxy-client"}) {
    names.push_back(absl::StrCat(base, ".crt"));
    names.push_back(absl::StrCat(base, ".key"));
  }
  names.push_back("sa.key");
  names.push_back("sa.pub");
  return names;
}

}  // namespace berth::berthadm
