#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/cluster_info_jws.h"
#include "controlplane/berthadm/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

TEST(BootstrapTokenTest, GeneratedTokensParseAndDiffer) {
  auto a = GenerateBootstrapToken();
  auto b = GenerateBootstrapToken();
  ASSERT_TRUE(a.ok() && b.ok());
  auto parsed = ParseBootstrapToken(a->ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, a->id);
  EXPECT_EQ(parsed->secret, a->secret);
  EXPECT_NE(a->ToString(), b->ToString());
}

TEST(BootstrapTokenTest, BadTokensAreNamedWithoutTheSecret) {
  EXPECT_THAT(std::string(ParseBootstrapToken("abcdef0123456789abcdef").status().message()),
              ::testing::HasSubstr("one dot"));
  EXPECT_THAT(std::string(ParseBootstrapToken("ABCDEF.0123456789abcdef").status().message()),
              ::testing::HasSubstr("id \"ABCDEF\""));
  auto bad_secret = ParseBootstrapToken("abcdef.0123456789ABCDEF");
  EXPECT_THAT(std::string(bad_secret.status().message()), ::testing::HasSubstr("secret is not 16"));
  EXPECT_THAT(std::string(bad_secret.status().message()), ::testing::Not(::testing::HasSubstr("0123456789ABCDEF")));
  EXPECT_FALSE(ParseBootstrapToken("abcdef.0123456789abcde").ok());
  EXPECT_FALSE(ParseBootstrapToken("abc.def.0123456789abcdef").ok());
}

TEST(BootstrapTokenTest, SecretCarriesUsagesAndExpiresAfterItsTtl) {
  BootstrapToken token{"abcdef", "0123456789abcdef"};
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  nlohmann::json secret = BootstrapTokenSecret(token, kDefaultBootstrapTokenTtl, now, "join");
  EXPECT_EQ(secret["metadata"]["name"], "bootstrap-token-abcdef");
  EXPECT_EQ(secret["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(secret["type"], "bootstrap.kubernetes.io/token");
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(secret["data"]["token-secret"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded, "0123456789abcdef");
  ASSERT_TRUE(absl::Base64Unescape(secret["data"]["expiration"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded, "2027-01-16T08:00:00Z");
  ASSERT_TRUE(absl::Base64Unescape(secret["data"]["usage-bootstrap-signing"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded, "true");
  EXPECT_TRUE(*BootstrapTokenSecretValid(secret, now + absl::Hours(23)));
  EXPECT_FALSE(*BootstrapTokenSecretValid(secret, now + absl::Hours(25)));
  nlohmann::json forever = BootstrapTokenSecret(token, absl::ZeroDuration(), now, "");
  EXPECT_FALSE(forever["data"].contains("expiration"));
  EXPECT_TRUE(*BootstrapTokenSecretValid(forever, now + absl::Hours(24 * 365)));
  forever["data"]["expiration"] = absl::Base64Escape("tomorrow");
  EXPECT_THAT(std::string(BootstrapTokenSecretValid(forever, now).status().message()),
              ::testing::HasSubstr("data.expiration: \"tomorrow\""));
}

TEST(CaPinTest, HashMatchesOpensslsAndPinsAreChecked) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string crt = dir.path() + "/ca.crt";
  Shell(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test-ca",
                     " -keyout ", dir.path(), "/ca.key -out ", crt, " -days 1 2>/dev/null"));
  auto pem = ReadFile(crt);
  ASSERT_TRUE(pem.ok()) << pem.status();
  std::string expected = Shell(absl::StrCat("openssl x509 -in ", crt,
                                            " -pubkey -noout | openssl pkey -pubin -outform der | sha256sum"));
  expected = "sha256:" + expected.substr(0, 64);
  auto hash = CaCertHash(*pem);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, expected);

  std::string upper = "sha256:" + absl::AsciiStrToUpper(hash->substr(7));
  EXPECT_TRUE(VerifyCaPin(*pem, {"sha256:" + std::string(64, '0'), upper}).ok());
  absl::Status wrong = VerifyCaPin(*pem, {"sha256:" + std::string(64, '1')});
  EXPECT_EQ(wrong.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(wrong.message()), ::testing::HasSubstr(*hash));
  EXPECT_EQ(VerifyCaPin(*pem, {"md5:abc"}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCaPin(*pem, {"sha256:abc"}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CaCertHash("not a certificate").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClusterInfoJwsTest, SignatureIsOpensslsHmacAndVerifies) {
  BootstrapToken token{"abcdef", "0123456789abcdef"};
  std::string kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n";
  std::string jws = SignDetachedJws(kubeconfig, token);
  size_t dots = jws.find("..");
  ASSERT_NE(dots, std::string::npos);
  std::string header;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(jws.substr(0, dots), &header));
  EXPECT_EQ(header, R"({"alg":"HS256","kid":"abcdef"})");

  // The signature as the openssl CLI computes it over the signing input.
  TempDir dir;
  std::string input = absl::StrCat(jws.substr(0, dots), ".", absl::WebSafeBase64Escape(kubeconfig));
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/input", input, 0600, false).ok());
  std::string mac = Shell(absl::StrCat("openssl dgst -sha256 -hmac ", token.secret, " -binary ", dir.path(),
                                       "/input | base64 -w0 | tr '+/' '-_' | tr -d '='"));
  EXPECT_EQ(jws.substr(dots + 2), mac);

  EXPECT_TRUE(VerifyDetachedJws(jws, kubeconfig, token).ok());
  EXPECT_EQ(VerifyDetachedJws(jws, kubeconfig + "# changed\n", token).code(), absl::StatusCode::kPermissionDenied);
  BootstrapToken other{"abcdef", "fedcba9876543210"};
  EXPECT_EQ(VerifyDetachedJws(jws, kubeconfig, other).code(), absl::StatusCode::kPermissionDenied);
  BootstrapToken other_id{"zzzzzz", "0123456789abcdef"};
  EXPECT_THAT(std::string(VerifyDetachedJws(jws, kubeconfig, other_id).message()),
              ::testing::HasSubstr("token id \"abcdef\""));
  EXPECT_EQ(VerifyDetachedJws("a.b.c", kubeconfig, token).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ClusterInfoSignatureKey("abcdef"), "jws-kubeconfig-abcdef");
}

}  // namespace
}  // namespace berth::berthadm
