// The berthadm binary's offline commands, run as a person would.
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "controlplane/berthadm/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Output (stdout and stderr) and exit status of berthadm with `args`.
std::pair<std::string, int> Berthadm(const std::string& args) {
  return RunShell(absl::StrCat(BERTHADM_PATH, " ", args, " 2>&1"));
}

TEST(BerthadmCliTest, CertsKubeconfigsAndExpirationAsKubeadmPrintsThem) {
  TempDir dir;
  std::string pki = dir.path() + "/pki";
  auto [certs, rc] = Berthadm(absl::StrCat("init phase certs all --cert-dir ", pki,
                                           " --apiserver-advertise-address 127.0.0.1 --node-name cp1"));
  EXPECT_EQ(rc, 0) << certs;
  EXPECT_THAT(certs, HasSubstr("[certs] Generated apiserver.crt"));
  auto [again, rc2] = Berthadm(absl::StrCat("init phase certs all --cert-dir ", pki,
                                            " --apiserver-advertise-address=127.0.0.1 --node-name cp1"));
  EXPECT_EQ(rc2, 0) << again;
  EXPECT_THAT(again, HasSubstr("[certs] Using existing apiserver.crt"));
  auto [conf, rc3] = Berthadm(absl::StrCat("init phase kubeconfig all --cert-dir ", pki, " --kubeconfig-dir ",
                                           dir.path(), " --control-plane-endpoint 127.0.0.1:6443 --node-name cp1"));
  EXPECT_EQ(rc3, 0) << conf;
  EXPECT_THAT(conf, HasSubstr("[kubeconfig] Writing " + dir.path() + "/admin.conf"));
  EXPECT_EQ(Shell(absl::StrCat("/usr/bin/kubectl --kubeconfig ", dir.path(),
                               "/kubelet.conf config view -o jsonpath='{.users[0].name}'")),
            "system:node:cp1");
  auto [table, rc4] = Berthadm("certs check-expiration --cert-dir " + pki);
  EXPECT_EQ(rc4, 0) << table;
  EXPECT_THAT(table, HasSubstr("CERTIFICATE AUTHORITY"));
  EXPECT_THAT(table, HasSubstr("front-proxy-client"));
  EXPECT_THAT(table, ::testing::ContainsRegex("apiserver +[A-Z][a-z]{2} [0-9]{2}, [0-9]{4} [0-9:]{5} UTC +36[45]d +ca"));
}

TEST(BerthadmCliTest, TokensAndBadInput) {
  auto [token, rc] = Berthadm("token generate");
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(token, MatchesRegex("[a-z0-9]{6}\\.[a-z0-9]{16}\n"));
  auto [unknown, rc2] = Berthadm("init phase everything");
  EXPECT_EQ(rc2, 1);
  EXPECT_THAT(unknown, HasSubstr("unknown command \"init phase everything\""));
  auto [flag, rc3] = Berthadm("certs check-expiration --cert-directory /x");
  EXPECT_EQ(rc3, 1);
  EXPECT_THAT(flag, HasSubstr("unknown flag --cert-directory"));
  auto [no_endpoint, rc4] = Berthadm("init phase kubeconfig all");
  EXPECT_EQ(rc4, 1);
  EXPECT_THAT(no_endpoint, HasSubstr("--control-plane-endpoint is required"));
  auto [bad_token, rc5] = Berthadm("discover 127.0.0.1:1 --token abc --discovery-token-ca-cert-hash sha256:00");
  EXPECT_EQ(rc5, 1);
  EXPECT_THAT(bad_token, HasSubstr("token: want the form"));
  TempDir dir;
  auto [missing, rc6] = Berthadm("certs check-expiration --cert-dir " + dir.path());
  EXPECT_EQ(rc6, 1);
  EXPECT_THAT(missing, HasSubstr("apiserver"));
}

TEST(BerthadmCliTest, PreflightNamesAMissingRuntimeAndRefusesABadIgnoreList) {
  TempDir dir;
  auto [out, rc] = Berthadm(absl::StrCat("init phase preflight --kubeconfig-dir ", dir.path(),
                                         " --cri-socket unix://", dir.path(), "/none.sock"));
  EXPECT_EQ(rc, 1) << out;
  EXPECT_THAT(out, HasSubstr("[ERROR CRI]: container runtime is not running: connect " + dir.path() + "/none.sock"));
  auto [bad, rc2] = Berthadm("init phase preflight --ignore-preflight-errors all,Swap");
  EXPECT_EQ(rc2, 1) << bad;
  EXPECT_THAT(bad, HasSubstr("\"all\" cannot be mixed"));
}

}  // namespace
}  // namespace berth::berthadm
