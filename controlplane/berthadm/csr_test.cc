#include "controlplane/berthadm/csr.h"

#include "absl/strings/match.h"
#include "common/fs.h"
#include "controlplane/berthadm/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

using ::testing::HasSubstr;

TEST(CsrTest, ANodesRequestIsApprovedSignedAndVerifiesWithOpenssl) {
  auto made = MakeNodeClientCsr("worker-1");
  ASSERT_TRUE(made.ok()) << made.status();
  TempDir dir;
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/req.pem", made->csr_pem).ok());
  // openssl reads it back and checks its signature too.
  EXPECT_THAT(Shell("openssl req -in " + dir.path() + "/req.pem -noout -verify -subject 2>&1"),
              HasSubstr("CN = system:node:worker-1"));
  auto info = ParseCsr(made->csr_pem);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->common_name, "system:node:worker-1");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:nodes"});
  EXPECT_TRUE(CheckNodeClientCsr(*info, {"digital signature", "key encipherment", "client auth"}).ok());

  auto ca = IssueCertificate(CertSpec{.common_name = "kubernetes", .is_ca = true}, nullptr);
  ASSERT_TRUE(ca.ok());
  auto cert = SignClientCsr(made->csr_pem, *ca, absl::Hours(24));
  ASSERT_TRUE(cert.ok()) << cert.status();
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/ca.crt", ca->cert_pem).ok());
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/node.crt", *cert).ok());
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/node.key", made->key_pem).ok());
  EXPECT_EQ(Shell("openssl verify -CAfile " + dir.path() + "/ca.crt -purpose sslclient " + dir.path() + "/node.crt"),
            dir.path() + "/node.crt: OK");
  // The certificate is for the node's own key.
  EXPECT_EQ(Shell("openssl x509 -in " + dir.path() + "/node.crt -noout -pubkey"),
            Shell("openssl pkey -in " + dir.path() + "/node.key -pubout"));
  auto parsed = ParseCertificate(*cert);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->common_name, "system:node:worker-1");
  EXPECT_LT(parsed->not_after, absl::Now() + absl::Hours(25));
}

TEST(CsrTest, RequestsOutsideTheNodeClientRuleAreRefusedNamingWhy) {
  CsrInfo good{.common_name = "system:node:w", .organizations = {"system:nodes"}};
  EXPECT_TRUE(CheckNodeClientCsr(good, {"client auth"}).ok());
  CsrInfo admin = good;
  admin.organizations = {"system:masters"};
  EXPECT_THAT(std::string(CheckNodeClientCsr(admin, {"client auth"}).message()), HasSubstr("system:masters"));
  CsrInfo other = good;
  other.common_name = "kubernetes-admin";
  EXPECT_THAT(std::string(CheckNodeClientCsr(other, {"client auth"}).message()), HasSubstr("kubernetes-admin"));
  CsrInfo nameless = good;
  nameless.common_name = "system:node:";
  EXPECT_FALSE(CheckNodeClientCsr(nameless, {"client auth"}).ok());
  CsrInfo sans = good;
  sans.dns_names = {"evil.example"};
  EXPECT_FALSE(CheckNodeClientCsr(sans, {"client auth"}).ok());
  EXPECT_THAT(std::string(CheckNodeClientCsr(good, {"client auth", "server auth"}).message()),
              HasSubstr("\"server auth\""));
  EXPECT_THAT(std::string(CheckNodeClientCsr(good, {"digital signature"}).message()), HasSubstr("client auth"));
}

TEST(CsrTest, ATamperedOrMalformedRequestIsRefused) {
  EXPECT_EQ(ParseCsr("not pem").status().code(), absl::StatusCode::kInvalidArgument);
  auto made = MakeNodeClientCsr("w");
  ASSERT_TRUE(made.ok());
  // Another key's request body under this request's signature: swap one base64 character in the body.
  std::string pem = made->csr_pem;
  size_t at = pem.find('\n') + 40;
  pem[at] = pem[at] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ParseCsr(pem).ok());
  EXPECT_FALSE(MakeNodeClientCsr("").ok());
}

}  // namespace
}  // namespace berth::berthadm
