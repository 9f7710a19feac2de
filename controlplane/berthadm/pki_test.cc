#include "controlplane/berthadm/pki.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "controlplane/berthadm/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

std::string Verify(const std::string& ca, const std::string& cert) {
  return Shell(absl::StrCat("openssl verify -CAfile ", ca, " ", cert, " 2>&1"));
}

TEST(PkiTest, IssuedCertificatesVerifyWithOpensslAndParseBack) {
  TempDir dir;
  auto ca = IssueCertificate({.common_name = "test-ca", .is_ca = true}, nullptr);
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto leaf = IssueCertificate({.common_name = "system:node:n1", .organizations = {"system:nodes"},
                                .server_auth = true, .client_auth = true, .dns_names = {"n1"},
                                .ip_addresses = {"10.0.0.7", "fd00::7"}, .validity = absl::Hours(48)},
                               &*ca);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/ca.crt", ca->cert_pem).ok());
  ASSERT_TRUE(AtomicWriteFile(dir.path() + "/leaf.crt", leaf->cert_pem).ok());
  EXPECT_EQ(Verify(dir.path() + "/ca.crt", dir.path() + "/leaf.crt"), dir.path() + "/leaf.crt: OK");
  EXPECT_THAT(Shell(absl::StrCat("openssl x509 -in ", dir.path(), "/leaf.crt -noout -ext extendedKeyUsage")),
              HasSubstr("TLS Web Server Authentication, TLS Web Client Authentication"));

  auto info = ParseCertificate(leaf->cert_pem);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->common_name, "system:node:n1");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:nodes"});
  EXPECT_EQ(info->dns_names, std::vector<std::string>{"n1"});
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"10.0.0.7", "fd00::7"}));
  EXPECT_FALSE(info->is_ca);
  EXPECT_NEAR(absl::ToDoubleHours(info->not_after - absl::Now()), 48, 0.1);
  EXPECT_TRUE(ParseCertificate(ca->cert_pem)->is_ca);
  EXPECT_TRUE(VerifySignedBy(leaf->cert_pem, ca->cert_pem).ok());
  EXPECT_FALSE(VerifySignedBy(ca->cert_pem, leaf->cert_pem).ok());
  EXPECT_THAT(std::string(IssueCertificate({.common_name = "x", .ip_addresses = {"not-an-ip"}}, nullptr)
                              .status().message()),
              HasSubstr("\"not-an-ip\" is not an IP address"));
}

class ClusterPkiTest : public ::testing::Test {
 protected:
  ClusterPkiOptions Options() {
    return {.dir = dir_.path() + "/pki", .node_name = "cp1", .advertise_address = "192.0.2.10",
            .extra_sans = {"api.example.test", "198.51.100.1"}};
  }
  std::string Path(const std::string& file) { return dir_.path() + "/pki/" + file; }
  TempDir dir_;
};

TEST_F(ClusterPkiTest, KubeadmsLayoutIsMadeOnceThenKept) {
  auto made = WriteClusterPki(Options(), absl::Now());
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->size(), 6u);
  for (const auto& r : *made) EXPECT_TRUE(r.created) << r.file;
  EXPECT_EQ(Verify(Path("ca.crt"), Path("apiserver.crt")), Path("apiserver.crt") + ": OK");
  EXPECT_EQ(Verify(Path("ca.crt"), Path("apiserver-kubelet-client.crt")),
            Path("apiserver-kubelet-client.crt") + ": OK");
  EXPECT_EQ(Verify(Path("front-proxy-ca.crt"), Path("front-proxy-client.crt")),
            Path("front-proxy-client.crt") + ": OK");
  auto apiserver = ParseCertificate(*ReadFile(Path("apiserver.crt")));
  ASSERT_TRUE(apiserver.ok());
  for (const char* dns : {"kubernetes", "kubernetes.default.svc.cluster.local", "cp1", "api.example.test"}) {
    EXPECT_THAT(apiserver->dns_names, Contains(dns));
  }
  for (const char* ip : {"10.96.0.1", "192.0.2.10", "198.51.100.1"}) EXPECT_THAT(apiserver->ip_addresses, Contains(ip));
  struct stat st;
  ASSERT_EQ(stat(Path("ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(Shell("openssl pkey -pubin -in " + Path("sa.pub") + " -noout -text"), HasSubstr("prime256v1"));

  std::string before = *ReadFile(Path("apiserver.crt"));
  auto again = WriteClusterPki(Options(), absl::Now());
  ASSERT_TRUE(again.ok()) << again.status();
  for (const auto& r : *again) EXPECT_FALSE(r.created) << r.file;
  EXPECT_EQ(*ReadFile(Path("apiserver.crt")), before);
}

TEST_F(ClusterPkiTest, RenewIssuesTheLeavesAgainWithTheirSansAndKeepsTheCas) {
  ASSERT_TRUE(WriteClusterPki(Options(), absl::Now()).ok());
  std::string ca = *ReadFile(Path("ca.crt"));
  std::string old_apiserver = *ReadFile(Path("apiserver.crt"));
  std::string old_key = *ReadFile(Path("apiserver.key"));
  auto renewed = RenewClusterPki(dir_.path() + "/pki", absl::Hours(24 * 30));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_THAT(*renewed, ::testing::ElementsAre("apiserver.crt", "apiserver-kubelet-client.crt", "front-proxy-client.crt"));
  EXPECT_EQ(*ReadFile(Path("ca.crt")), ca);
  EXPECT_NE(*ReadFile(Path("apiserver.crt")), old_apiserver);
  EXPECT_NE(*ReadFile(Path("apiserver.key")), old_key);
  EXPECT_EQ(Verify(Path("ca.crt"), Path("apiserver.crt")), Path("apiserver.crt") + ": OK");
  EXPECT_EQ(Verify(Path("front-proxy-ca.crt"), Path("front-proxy-client.crt")), Path("front-proxy-client.crt") + ": OK");
  auto info = ParseCertificate(*ReadFile(Path("apiserver.crt")));
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->dns_names, Contains("api.example.test"));
  EXPECT_THAT(info->ip_addresses, Contains("192.0.2.10"));
  EXPECT_LT(info->not_after, absl::Now() + absl::Hours(24 * 31));
  auto client = ParseCertificate(*ReadFile(Path("apiserver-kubelet-client.crt")));
  ASSERT_TRUE(client.ok());
  EXPECT_THAT(client->organizations, Contains("kubeadm:cluster-admins"));
  // The key pairs kubeconfigs and the WriteClusterPki check accept the renewed files.
  EXPECT_TRUE(WriteClusterPki(Options(), absl::Now()).ok());

  // A leaf of another CA is refused and left as it is.
  TempDir other;
  ClusterPkiOptions o = Options();
  o.dir = other.path() + "/pki";
  ASSERT_TRUE(WriteClusterPki(o, absl::Now()).ok());
  ASSERT_TRUE(AtomicWriteFile(Path("front-proxy-client.crt"), *ReadFile(o.dir + "/front-proxy-client.crt")).ok());
  auto refused = RenewClusterPki(dir_.path() + "/pki");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("front-proxy-client.crt is not signed by"));
  EXPECT_EQ(*ReadFile(Path("front-proxy-client.crt")), *ReadFile(o.dir + "/front-proxy-client.crt"));
}

TEST_F(ClusterPkiTest, AnExistingCertificateThatNoLongerFitsIsRefusedAndKept) {
  ASSERT_TRUE(WriteClusterPki(Options(), absl::Now()).ok());
  std::string before = *ReadFile(Path("apiserver.crt"));
  ClusterPkiOptions more = Options();
  more.extra_sans.push_back("203.0.113.5");
  auto refused = WriteClusterPki(more, absl::Now());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("apiserver.crt exists but lacks the SAN IP:203.0.113.5"));
  EXPECT_EQ(*ReadFile(Path("apiserver.crt")), before);

  auto expired = WriteClusterPki(Options(), absl::Now() + absl::Hours(24 * 366));
  EXPECT_THAT(std::string(expired.status().message()), HasSubstr("apiserver.crt exists but expired"));

  ASSERT_TRUE(AtomicWriteFile(Path("front-proxy-client.crt"), "garbage").ok());
  EXPECT_THAT(std::string(WriteClusterPki(Options(), absl::Now()).status().message()),
              HasSubstr("front-proxy-client.crt exists but not a PEM certificate"));
}

TEST_F(ClusterPkiTest, BadOptionsAreNamedAndWriteNothing) {
  ClusterPkiOptions bad = Options();
  bad.service_cidr = "10.96.0.0";
  EXPECT_THAT(std::string(WriteClusterPki(bad, absl::Now()).status().message()),
              HasSubstr("service-cidr \"10.96.0.0\" is not a CIDR"));
  bad = Options();
  bad.advertise_address = "cp1.local";
  EXPECT_THAT(std::string(WriteClusterPki(bad, absl::Now()).status().message()),
              HasSubstr("apiserver-advertise-address \"cp1.local\""));
  EXPECT_FALSE(PathExists(Path("ca.crt")));
  bad = Options();
  bad.service_cidr = "fd00:10:96::/112";
  auto sans = ApiServerSans(bad);
  ASSERT_TRUE(sans.ok());
  EXPECT_THAT(sans->second, Contains("fd00:10:96::1"));
}

}  // namespace
}  // namespace berth::berthadm
