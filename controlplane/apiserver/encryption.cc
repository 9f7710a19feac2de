#include "controlplane/apiserver/encryption.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "common/fs.h"

namespace berth::apiserver {

namespace {

constexpr absl::string_view kAesGcmPrefix = "k8s:enc:aesgcm:v1:";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

const EVP_CIPHER* CipherFor(size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

class AesGcmTransformer : public ValueTransformer {
 public:
  AesGcmTransformer(std::vector<std::pair<std::string, std::string>> keys, bool identity)
      : keys_(std::move(keys)), identity_(identity) {}

  absl::StatusOr<std::string> Encrypt(absl::string_view key, absl::string_view plain) const override {
    const auto& [name, secret] = keys_.front();
    unsigned char nonce[kNonceSize];
    if (RAND_bytes(nonce, sizeof nonce) != 1) return absl::InternalError("aesgcm: no random nonce");
    CipherCtx c;
    std::string out = absl::StrCat(kAesGcmPrefix, name, ":");
    out.append(reinterpret_cast<char*>(nonce), kNonceSize);
    size_t body = out.size();
    out.resize(body + plain.size() + kTagSize);
    int len = 0;
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + body);
    if (EVP_EncryptInit_ex(c.ctx, CipherFor(secret.size()), nullptr,
                           reinterpret_cast<const unsigned char*>(secret.data()), nonce) != 1 ||
        EVP_EncryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<int>(key.size())) != 1 ||
        EVP_EncryptUpdate(c.ctx, dst, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1) {
      return absl::InternalError("aesgcm: encryption failed");
    }
    int final_len = 0;
    if (EVP_EncryptFinal_ex(c.ctx, dst + len, &final_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, dst + plain.size()) != 1) {
      return absl::InternalError("aesgcm: encryption failed");
    }
    return out;
  }

  absl::StatusOr<std::string> Decrypt(absl::string_view key, absl::string_view stored) const override {
    if (!absl::StartsWith(stored, kAesGcmPrefix)) {
      if (identity_ && !absl::StartsWith(stored, "k8s:enc:")) return std::string(stored);
      return absl::InternalError(absl::StrCat("value of ", key, " is not aesgcm-encrypted"));
    }
    absl::string_view rest = stored.substr(kAesGcmPrefix.size());
    size_t colon = rest.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InternalError(absl::StrCat("value of ", key, ": encrypted value has no key name"));
    }
    absl::string_view name = rest.substr(0, colon);
    absl::string_view data = rest.substr(colon + 1);
    const std::string* secret = nullptr;
    for (const auto& [n, s] : keys_) {
      if (n == name) secret = &s;
    }
    if (secret == nullptr) {
      return absl::InternalError(absl::StrCat("value of ", key, " was encrypted with key \"", name,
                                              "\", which the encryption config does not have"));
    }
    if (data.size() < kNonceSize + kTagSize) {
      return absl::InternalError(absl::StrCat("value of ", key, ": encrypted value too short"));
    }
    auto* nonce = reinterpret_cast<const unsigned char*>(data.data());
    size_t cipher_len = data.size() - kNonceSize - kTagSize;
    auto* cipher = nonce + kNonceSize;
    std::string tag(data.substr(kNonceSize + cipher_len));
    std::string plain(cipher_len, '\0');
    CipherCtx c;
    int len = 0, final_len = 0;
    if (EVP_DecryptInit_ex(c.ctx, CipherFor(secret->size()), nullptr,
                           reinterpret_cast<const unsigned char*>(secret->data()), nonce) != 1 ||
        EVP_DecryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<int>(key.size())) != 1 ||
        EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plain.data()), &len, cipher,
                          static_cast<int>(cipher_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &final_len) != 1) {
      return absl::InternalError(absl::StrCat("value of ", key, ": decryption with key \"", name,
                                              "\" failed (wrong key or tampered value)"));
    }
    return plain;
  }

 private:
  std::vector<std::pair<std::string, std::string>> keys_;
  bool identity_;
};

}  // namespace

std::shared_ptr<ValueTransformer> NewAesGcmTransformer(
    std::vector<std::pair<std::string, std::string>> named_keys, bool identity_fallback) {
  return std::make_shared<AesGcmTransformer>(std::move(named_keys), identity_fallback);
}

absl::StatusOr<std::unique_ptr<EncryptionConfig>> EncryptionConfig::LoadFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--encryption-provider-config: ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<std::unique_ptr<EncryptionConfig>> EncryptionConfig::Parse(absl::string_view yaml,
                                                                          absl::string_view source) {
  auto bad = [&](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("encryption config ", source, ": ", field, ": ", why));
  };
  auto docs = k8s::YamlToJson(std::string_view(yaml.data(), yaml.size()));
  if (!docs.ok()) return bad("(document)", docs.status().message());
  if (docs->size() != 1 || !(*docs)[0].is_object()) return bad("(document)", "want one YAML object");
  const nlohmann::json& doc = (*docs)[0];
  if (doc.value("kind", "") != "EncryptionConfiguration") {
    return bad("kind", absl::StrCat("want EncryptionConfiguration, got \"", doc.value("kind", ""), "\""));
  }
  if (!doc.contains("resources") || !doc["resources"].is_array()) return bad("resources", "Required value");
  auto config = std::make_unique<EncryptionConfig>();
  for (size_t i = 0; i < doc["resources"].size(); ++i) {
    const auto& entry = doc["resources"][i];
    std::string at = absl::StrCat("resources[", i, "]");
    if (!entry.contains("resources") || !entry["resources"].is_array() || entry["resources"].empty()) {
      return bad(at + ".resources", "Required value");
    }
    if (!entry.contains("providers") || !entry["providers"].is_array() || entry["providers"].empty()) {
      return bad(at + ".providers", "Required value");
    }
    std::vector<std::pair<std::string, std::string>> keys;
    bool identity = false, identity_first = false;
    for (size_t p = 0; p < entry["providers"].size(); ++p) {
      const auto& provider = entry["providers"][p];
      std::string pat = absl::StrCat(at, ".providers[", p, "]");
      if (provider.contains("identity")) {
        identity = true;
        if (p == 0) identity_first = true;
      } else if (provider.contains("aesgcm")) {
        const auto& k = provider["aesgcm"].value("keys", nlohmann::json::array());
        if (!k.is_array() || k.empty()) return bad(pat + ".aesgcm.keys", "Required value");
        for (size_t n = 0; n < k.size(); ++n) {
          std::string kat = absl::StrCat(pat, ".aesgcm.keys[", n, "]");
          std::string name = k[n].value("name", "");
          if (name.empty() || name.find(':') != std::string::npos) {
            return bad(kat + ".name", absl::StrCat("Invalid value: \"", name, "\": must be non-empty without ':'"));
          }
          std::string secret;
          if (!absl::Base64Unescape(k[n].value("secret", ""), &secret) || CipherFor(secret.size()) == nullptr) {
            return bad(kat + ".secret", "Invalid value: must be base64 of a 16, 24 or 32 byte key");
          }
          keys.emplace_back(name, secret);
        }
      } else {
        return bad(pat, absl::StrCat("unsupported provider (berth has aesgcm and identity): ", provider.dump()));
      }
    }
    std::shared_ptr<ValueTransformer> transformer;
    if (!keys.empty() && !identity_first) {
      transformer = NewAesGcmTransformer(keys, identity);
      config->transformers_.push_back(transformer);
    }
    for (const auto& r : entry["resources"]) {
      if (!r.is_string()) return bad(at + ".resources", "want strings");
      std::string name = r.get<std::string>();
      // "secrets" and "secrets." (core group, explicitly) are the same.
      if (!name.empty() && name.back() == '.') name.pop_back();
      config->by_resource_[name] = transformer.get();
    }
  }
  return config;
}

const ValueTransformer* EncryptionConfig::For(absl::string_view qualified_resource) const {
  auto it = by_resource_.find(qualified_resource);
  return it == by_resource_.end() ? nullptr : it->second;
}

}  // namespace berth::apiserver
