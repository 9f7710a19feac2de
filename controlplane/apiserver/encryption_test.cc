#include "controlplane/apiserver/encryption.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace berth::apiserver {
namespace {

// base64 of 32 bytes "0123456789abcdef0123456789abcdef" and of another key.
constexpr char kKey1[] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr char kKey2[] = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

std::string Config(const std::string& providers) {
  return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
         "- resources: [secrets]\n  providers:\n" +
         providers;
}

TEST(EncryptionTest, AesGcmRoundTripWithPrefixAndKeyBinding) {
  auto config = EncryptionConfig::Parse(
      Config(std::string("  - aesgcm:\n      keys:\n      - name: key1\n        secret: ") + kKey1 +
             "\n  - identity: {}\n"),
      "test");
  ASSERT_TRUE(config.ok()) << config.status();
  const ValueTransformer* t = (*config)->For("secrets");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*config)->For("configmaps"), nullptr);
  std::string plain = R"({"kind":"Secret","data":{"password":"c2VjcmV0"}})";
  auto stored = t->Encrypt("/registry/secrets/default/s", plain);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(absl::StartsWith(*stored, "k8s:enc:aesgcm:v1:key1:"));
  EXPECT_EQ(stored->find("c2VjcmV0"), std::string::npos);
  auto back = t->Decrypt("/registry/secrets/default/s", *stored);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, plain);
  // Bound to its key: the same bytes under another key do not decrypt.
  EXPECT_FALSE(t->Decrypt("/registry/secrets/default/other", *stored).ok());
  // Tampering is detected.
  std::string tampered = *stored;
  tampered.back() ^= 1;
  EXPECT_FALSE(t->Decrypt("/registry/secrets/default/s", tampered).ok());
  // identity listed: plain values written before encryption still read.
  EXPECT_EQ(*t->Decrypt("/registry/secrets/default/old", plain), plain);
}

TEST(EncryptionTest, KeyRotationReadsOldKey) {
  auto old_config = EncryptionConfig::Parse(
      Config(std::string("  - aesgcm:\n      keys:\n      - name: key1\n        secret: ") + kKey1 + "\n"), "old");
  ASSERT_TRUE(old_config.ok());
  auto stored = (*old_config)->For("secrets")->Encrypt("/k", "v");
  ASSERT_TRUE(stored.ok());
  auto rotated = EncryptionConfig::Parse(
      Config(std::string("  - aesgcm:\n      keys:\n      - name: key2\n        secret: ") + kKey2 +
             "\n      - name: key1\n        secret: " + kKey1 + "\n"),
      "new");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(*(*rotated)->For("secrets")->Decrypt("/k", *stored), "v");
  EXPECT_TRUE(absl::StartsWith(*(*rotated)->For("secrets")->Encrypt("/k", "v"), "k8s:enc:aesgcm:v1:key2:"));
  // Without identity, a plain value is an error, not silently accepted.
  EXPECT_FALSE((*old_config)->For("secrets")->Decrypt("/k", "plain").ok());
}

TEST(EncryptionTest, BadConfigsNamed) {
  auto bad_key = EncryptionConfig::Parse(Config("  - aesgcm:\n      keys:\n      - name: k\n        secret: c2hvcnQ=\n"), "f");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("resources[0].providers[0].aesgcm.keys[0].secret"), std::string::npos)
      << bad_key.status();
  auto bad_kind = EncryptionConfig::Parse("kind: Other\nresources: []\n", "f");
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_NE(bad_kind.status().message().find("kind"), std::string::npos);
  auto unsupported = EncryptionConfig::Parse(Config("  - kms: {name: x}\n"), "f");
  EXPECT_FALSE(unsupported.ok());
}

}  // namespace
}  // namespace berth::apiserver
