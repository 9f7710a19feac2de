// Encryption at rest for chosen resources (Secrets), configured by a file in
// kube-apiserver's EncryptionConfiguration shape:
//
//   apiVersion: apiserver.config.k8s.io/v1
//   kind: EncryptionConfiguration
//   resources:
//   - resources: [secrets]
//     providers:
//     - aesgcm: {keys: [{name: key1, secret: <base64 of 16, 24 or 32 bytes>}]}
//     - identity: {}
//
// The first provider encrypts new writes; every listed one decrypts. An
// aesgcm value is "k8s:enc:aesgcm:v1:<keyname>:" + nonce(12) + ciphertext +
// tag(16), with the store key as additional authenticated data, so a value
// moved to another key does not decrypt.
#pragma once

#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace berth::apiserver {

class ValueTransformer {
 public:
  virtual ~ValueTransformer() = default;
  // `key` is the store key (authenticated, not encrypted).
  virtual absl::StatusOr<std::string> Encrypt(absl::string_view key, absl::string_view plain) const = 0;
  virtual absl::StatusOr<std::string> Decrypt(absl::string_view key, absl::string_view stored) const = 0;
};

class EncryptionConfig {
 public:
  static absl::StatusOr<std::unique_ptr<EncryptionConfig>> LoadFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<EncryptionConfig>> Parse(absl::string_view yaml,
                                                                absl::string_view source);

  // The transformer for a resource ("secrets" or "deployments.apps"), or
  // nullptr when it is stored as is.
  const ValueTransformer* For(absl::string_view qualified_resource) const;

 private:
  std::vector<std::shared_ptr<ValueTransformer>> transformers_;
  std::map<std::string, const ValueTransformer*, std::less<>> by_resource_;
};

// AES-GCM with these named keys (first one encrypts); `identity_fallback`
// reads values without the k8s:enc: prefix as plain text.
std::shared_ptr<ValueTransformer> NewAesGcmTransformer(
    std::vector<std::pair<std::string, std::string>> named_keys, bool identity_fallback);

}  // namespace berth::apiserver
