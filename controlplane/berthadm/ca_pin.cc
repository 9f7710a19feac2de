#include "controlplane/berthadm/ca_pin.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace berth::berthadm {

absl::StatusOr<std::string> CaCertHash(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  if (bio == nullptr) return absl::ResourceExhaustedError("CA certificate: out of memory");
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                   &X509_free);
  if (cert == nullptr) return absl::InvalidArgumentError("CA certificate: no PEM certificate found");
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (len <= 0) return absl::InvalidArgumentError("CA certificate: its public key cannot be encoded");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(len), digest);
  OPENSSL_free(der);
  return absl::StrCat("sha256:",
                      absl::BytesToHexString(std::string(reinterpret_cast<char*>(digest), sizeof digest)));
}

absl::StatusOr<std::string> ParseCaCertHash(const std::string& pin) {
  if (!absl::StartsWith(pin, "sha256:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("discovery-token-ca-cert-hash \"", pin, "\": want \"sha256:\" and 64 hex digits"));
  }
  std::string hex = absl::AsciiStrToLower(pin.substr(7));
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("discovery-token-ca-cert-hash \"", pin, "\": want \"sha256:\" and 64 hex digits"));
  }
  return "sha256:" + hex;
}

absl::Status VerifyCaPin(const std::string& pem, const std::vector<std::string>& pins) {
  auto actual = CaCertHash(pem);
  if (!actual.ok()) return actual.status();
  std::vector<std::string> wanted;
  for (const auto& pin : pins) {
    auto parsed = ParseCaCertHash(pin);
    if (!parsed.ok()) return parsed.status();
    if (*parsed == *actual) return absl::OkStatus();
    wanted.push_back(*parsed);
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the cluster CA's public key hash is ", *actual, ", not the pinned ",
                   wanted.empty() ? "(none given)" : absl::StrJoin(wanted, " or ")));
}

}  // namespace berth::berthadm
