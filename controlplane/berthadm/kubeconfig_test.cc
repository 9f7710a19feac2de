#include "controlplane/berthadm/kubeconfig.h"

#include <sys/stat.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "controlplane/berthadm/pki.h"
#include "controlplane/berthadm/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

using ::testing::HasSubstr;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteClusterPki({.dir = Pki(), .node_name = "cp1", .advertise_address = "127.0.0.1"}, absl::Now()).ok());
  }
  std::string Pki() { return dir_.path() + "/pki"; }
  std::string Conf(const std::string& f) { return dir_.path() + "/kube/" + f; }
  std::string Kubectl(const std::string& file, const std::string& args) {
    return Shell(absl::StrCat("/usr/bin/kubectl --kubeconfig ", Conf(file), " ", args));
  }
  TempDir dir_;
};

TEST_F(KubeconfigTest, KubectlReadsEachFileWithItsUserAndACertificateFromTheClusterCa) {
  auto written = WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:6443", StandardKubeconfigs("cp1"));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, (std::vector<std::string>{"admin.conf", "controller-manager.conf", "scheduler.conf",
                                                "kubelet.conf"}));
  EXPECT_EQ(Kubectl("admin.conf", "config current-context"), "kubernetes-admin@kubernetes");
  EXPECT_EQ(Kubectl("kubelet.conf", "config view -o jsonpath='{.clusters[0].cluster.server}'"),
            "https://127.0.0.1:6443");
  std::string cert_b64 =
      Kubectl("kubelet.conf", "config view --raw -o jsonpath='{.users[0].user.client-certificate-data}'");
  std::string cert_pem;
  ASSERT_TRUE(absl::Base64Unescape(cert_b64, &cert_pem));
  auto info = ParseCertificate(cert_pem);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->common_name, "system:node:cp1");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:nodes"});
  EXPECT_TRUE(VerifySignedBy(cert_pem, *ReadFile(Pki() + "/ca.crt")).ok());
  struct stat st;
  ASSERT_EQ(stat(Conf("admin.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Again: nothing to write.
  std::string before = *ReadFile(Conf("admin.conf"));
  auto again = WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:6443", StandardKubeconfigs("cp1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(*ReadFile(Conf("admin.conf")), before);
}

TEST_F(KubeconfigTest, RenewGivesPresentFilesNewClientCertificatesForTheSameServerAndUser) {
  ASSERT_TRUE(WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:7443",
                               {{"admin.conf", "kubernetes-admin", {"system:masters"}}})
                  .ok());
  std::string before = Kubectl("admin.conf", "config view --raw -o jsonpath='{.users[0].user.client-certificate-data}'");
  auto renewed = RenewKubeconfigs(Pki(), dir_.path() + "/kube", StandardKubeconfigs("cp1"), absl::Hours(48));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, std::vector<std::string>{"admin.conf"});  // the others are not there
  std::string after = Kubectl("admin.conf", "config view --raw -o jsonpath='{.users[0].user.client-certificate-data}'");
  EXPECT_NE(after, before);
  EXPECT_EQ(Kubectl("admin.conf", "config view -o jsonpath='{.clusters[0].cluster.server}'"), "https://127.0.0.1:7443");
  std::string pem;
  ASSERT_TRUE(absl::Base64Unescape(after, &pem));
  auto info = ParseCertificate(pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "kubernetes-admin");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:masters"});
  EXPECT_LT(info->not_after, absl::Now() + absl::Hours(49));
  EXPECT_TRUE(VerifySignedBy(pem, *ReadFile(Pki() + "/ca.crt")).ok());
}

TEST_F(KubeconfigTest, AnExistingFileForAnotherServerOrCaIsRefusedAndKept) {
  ASSERT_TRUE(WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:6443", StandardKubeconfigs("cp1")).ok());
  auto moved = WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:7443", StandardKubeconfigs("cp1"));
  EXPECT_THAT(std::string(moved.status().message()),
              HasSubstr("admin.conf exists but points at \"https://127.0.0.1:6443\", not https://127.0.0.1:7443"));
  // Another cluster's PKI: the same files no longer verify.
  ASSERT_TRUE(RemoveAll(Pki()).ok());
  ASSERT_TRUE(WriteClusterPki({.dir = Pki(), .node_name = "cp1"}, absl::Now()).ok());
  auto other_ca = WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:6443", StandardKubeconfigs("cp1"));
  EXPECT_THAT(std::string(other_ca.status().message()), HasSubstr("not signed by this cluster's CA"));
  ASSERT_TRUE(AtomicWriteFile(Conf("scheduler.conf"), "[not: a kubeconfig").ok());
  auto broken = WriteKubeconfigs(Pki(), dir_.path() + "/kube", "https://127.0.0.1:6443",
                                 {{"scheduler.conf", "system:kube-scheduler", {}}});
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("scheduler.conf exists but is not a kubeconfig"));
}

}  // namespace
}  // namespace berth::berthadm
