#include "controlplane/berthadm/cluster_info_jws.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace berth::berthadm {
namespace {

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Signature(const std::string& encoded_header, const std::string& payload, const BootstrapToken& token) {
  return absl::WebSafeBase64Escape(
      HmacSha256(token.secret, absl::StrCat(encoded_header, ".", absl::WebSafeBase64Escape(payload))));
}

}  // namespace

std::string ClusterInfoSignatureKey(const std::string& token_id) { return "jws-kubeconfig-" + token_id; }

std::string SignDetachedJws(const std::string& payload, const BootstrapToken& token) {
  nlohmann::json header = {{"alg", "HS256"}, {"kid", token.id}};
  std::string encoded_header = absl::WebSafeBase64Escape(header.dump());
  return absl::StrCat(encoded_header, "..", Signature(encoded_header, payload, token));
}

absl::Status VerifyDetachedJws(const std::string& jws, const std::string& payload, const BootstrapToken& token) {
  size_t first = jws.find('.');
  if (first == std::string::npos || jws.compare(first, 2, "..") != 0 ||
      jws.find('.', first + 2) != std::string::npos) {
    return absl::InvalidArgumentError("cluster-info signature: not a compact JWS with a detached payload (header..signature)");
  }
  std::string encoded_header = jws.substr(0, first);
  std::string header_text;
  if (!absl::WebSafeBase64Unescape(encoded_header, &header_text)) {
    return absl::InvalidArgumentError("cluster-info signature: the header is not base64url");
  }
  auto header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return absl::InvalidArgumentError("cluster-info signature: the header is not a JSON object");
  }
  if (header.value("alg", "") != "HS256") {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster-info signature: alg \"", header.value("alg", ""), "\" is not HS256"));
  }
  if (header.contains("kid") && header.value("kid", "") != token.id) {
    return absl::PermissionDeniedError(absl::StrCat("cluster-info signature: signed by token id \"",
                                                    header.value("kid", ""), "\", not \"", token.id, "\""));
  }
  std::string want = Signature(encoded_header, payload, token);
  std::string got = jws.substr(first + 2);
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cluster-info signature does not match token ", token.id,
                     ": a wrong token secret, or cluster-info was changed"));
  }
  return absl::OkStatus();
}

}  // namespace berth::berthadm
