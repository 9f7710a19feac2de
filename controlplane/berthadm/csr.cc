#include "controlplane/berthadm/csr.h"

#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/openssl_util.h"

namespace berth::berthadm {
namespace {

using Req = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ, X509_REQ_free>>;

std::string Asn1Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

absl::StatusOr<KeyAndCsr> MakeNodeClientCsr(const std::string& node_name) {
  if (node_name.empty()) return absl::InvalidArgumentError("node name is empty");
  PKey key(EVP_EC_gen("P-256"));
  Req req(X509_REQ_new());
  if (key == nullptr || req == nullptr) return absl::InternalError("generate a P-256 key (openssl)");
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  std::string cn = "system:node:" + node_name;
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("system:nodes"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0) return absl::InternalError("sign the request (openssl)");
  Bio key_bio(BIO_new(BIO_s_mem())), req_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509_REQ(req_bio.get(), req.get()) != 1) {
    return absl::InternalError("encode the key and request as PEM (openssl)");
  }
  return KeyAndCsr{BioText(key_bio.get()), BioText(req_bio.get())};
}

absl::StatusOr<CsrInfo> ParseCsr(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Req req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (req == nullptr) return absl::InvalidArgumentError("request: not a PEM certificate request");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    return absl::InvalidArgumentError("request: its signature does not verify with its own key");
  }
  CsrInfo info;
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (nid == NID_commonName) info.common_name = Asn1Text(X509_NAME_ENTRY_get_data(e));
    if (nid == NID_organizationName) info.organizations.push_back(Asn1Text(X509_NAME_ENTRY_get_data(e)));
  }
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  for (int i = 0; exts != nullptr && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int j = 0; names != nullptr && j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, j);
      if (n->type == GEN_DNS) info.dns_names.push_back(Asn1Text(n->d.dNSName));
      if (n->type == GEN_EMAIL) info.email_addresses.push_back(Asn1Text(n->d.rfc822Name));
      if (n->type == GEN_IPADD) {
        char text[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(n->d.iPAddress);
        if (len == 4 || len == 16) {
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof text);
        }
        info.ip_addresses.emplace_back(text);
      }
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  Bio pub(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(pub.get(), key) != 1) return absl::InternalError("encode the request's key (openssl)");
  info.public_key_pem = BioText(pub.get());
  return info;
}

absl::Status CheckNodeClientCsr(const CsrInfo& csr, const std::vector<std::string>& usages) {
  if (!absl::StartsWith(csr.common_name, "system:node:") || csr.common_name.size() == 12) {
    return absl::PermissionDeniedError(
        absl::StrCat("subject CN \"", csr.common_name, "\": a node's client certificate is for system:node:<name>"));
  }
  if (csr.organizations != std::vector<std::string>{"system:nodes"}) {
    return absl::PermissionDeniedError(absl::StrCat("subject O [", absl::StrJoin(csr.organizations, ","),
                                                    "]: a node's client certificate has exactly [system:nodes]"));
  }
  if (!csr.dns_names.empty() || !csr.ip_addresses.empty() || !csr.email_addresses.empty()) {
    return absl::PermissionDeniedError("a node's client certificate request has no subject alternative names");
  }
  const std::set<std::string> allowed = {"digital signature", "key encipherment", "client auth"};
  for (const auto& u : usages) {
    if (!allowed.count(u)) {
      return absl::PermissionDeniedError(absl::StrCat("usage \"", u, "\" is not one a node client certificate has"));
    }
  }
  if (std::find(usages.begin(), usages.end(), "client auth") == usages.end()) {
    return absl::PermissionDeniedError("usages: \"client auth\" is missing");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SignClientCsr(const std::string& csr_pem, const KeyAndCert& ca, absl::Duration validity) {
  ASSIGN_OR_RETURN(CsrInfo csr, ParseCsr(csr_pem));
  CertSpec spec{.common_name = csr.common_name,
                .organizations = csr.organizations,
                .client_auth = true,
                .dns_names = csr.dns_names,
                .ip_addresses = csr.ip_addresses,
                .validity = validity};
  return IssueCertificateForPublicKey(spec, csr.public_key_pem, ca);
}

}  // namespace berth::berthadm
