// Bootstrap token authentication against the real berth-controlplane, with
// kubectl: the token Secret berthadm writes makes the token a user
// (system:bootstrap:<id>); a wrong secret, an expired token or a deleted
// Secret is refused with 401.
#include <stdlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/cluster_info.h"
#include "e2e/controlplane/controlplane_process.h"
#include "e2e/controlplane/netns_environment.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

const auto* const kNetns = ::testing::AddGlobalTestEnvironment(new NetnsEnvironment("berth-bte2e-"));

class BootstrapTokenE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-bte2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto cp = ControlPlaneProcess::Start({.root = root_});
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    auto admin = cp_->Kubeconfig("admin");
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *admin;
  }
  void TearDown() override {
    if (HasFailure() && cp_) std::cerr << "controlplane log:\n" << cp_->LogTail() << "\n";
    cp_.reset();
    (void)RemoveAll(root_);
  }

  // A kubeconfig that authenticates with `token` only (no client certificate).
  std::string TokenKubeconfig(const std::string& token) {
    std::string dir = root_ + "/home-token";
    EXPECT_TRUE(MkdirAll(dir).ok());
    std::string path = dir + "/kubeconfig";
    EXPECT_TRUE(AtomicWriteFile(path,
                                absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                             "    server: ", cp_->server(), "\n    certificate-authority: ",
                                             cp_->pki(), "/ca.crt\nusers:\n- name: t\n  user:\n    token: ", token,
                                             "\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: t\n"
                                             "current-context: c\n"),
                                0600)
                    .ok());
    return path;
  }

  void CreateSecret(const nlohmann::json& secret) {
    std::string file = root_ + "/secret.json";
    ASSERT_TRUE(AtomicWriteFile(file, secret.dump()).ok());
    auto out = Kubectl(admin_, {"apply", "-f", file});
    ASSERT_TRUE(out.ok()) << out.status();
  }

  std::string root_, admin_;
  std::unique_ptr<ControlPlaneProcess> cp_;
};

TEST_F(BootstrapTokenE2eTest, ATokenFromItsSecretIsABootstrapperUntilItGoes) {
  berthadm::BootstrapToken token{"abcdef", "0123456789abcdef"};
  // Before its Secret exists: 401.
  auto before = Kubectl(TokenKubeconfig(token.ToString()), {"get", "--raw", "/version"});
  ASSERT_FALSE(before.ok());
  EXPECT_THAT(std::string(before.status().message()), HasSubstr("Unauthorized"));

  CreateSecret(berthadm::BootstrapTokenSecret(token, absl::Hours(1), absl::Now(), "e2e"));
  auto version = Kubectl(TokenKubeconfig(token.ToString()), {"get", "--raw", "/version"});
  EXPECT_TRUE(version.ok()) << version.status();
  // Authenticated as system:bootstrap:abcdef, which may not list pods.
  auto pods = Kubectl(TokenKubeconfig(token.ToString()), {"get", "pods", "-n", "kube-system"});
  ASSERT_FALSE(pods.ok());
  EXPECT_THAT(std::string(pods.status().message()), HasSubstr("system:bootstrap:abcdef"));

  auto wrong = Kubectl(TokenKubeconfig("abcdef.fedcba9876543210"), {"get", "--raw", "/version"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("Unauthorized"));

  // Expired: the same Secret with an expiration in the past.
  nlohmann::json expired = berthadm::BootstrapTokenSecret(token, absl::Hours(1), absl::Now() - absl::Hours(2), "e2e");
  CreateSecret(expired);
  auto late = Kubectl(TokenKubeconfig(token.ToString()), {"get", "--raw", "/version"});
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("Unauthorized"));

  CreateSecret(berthadm::BootstrapTokenSecret(token, absl::Hours(1), absl::Now(), "e2e"));
  ASSERT_TRUE(Kubectl(TokenKubeconfig(token.ToString()), {"get", "--raw", "/version"}).ok());
  ASSERT_TRUE(Kubectl(admin_, {"delete", "secret", "-n", "kube-system", "bootstrap-token-abcdef"}).ok());
  auto gone = Kubectl(TokenKubeconfig(token.ToString()), {"get", "--raw", "/version"});
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(std::string(gone.status().message()), HasSubstr("Unauthorized"));
}

TEST_F(BootstrapTokenE2eTest, JoinDiscoversTheClusterFromAnonymousClusterInfo) {
  berthadm::BootstrapToken token{"abcdef", "0123456789abcdef"};
  auto ca = ReadFile(cp_->pki() + "/ca.crt");
  ASSERT_TRUE(ca.ok());
  std::string file = root_ + "/cluster-info.json";
  ASSERT_TRUE(AtomicWriteFile(file, berthadm::ClusterInfoConfigMap(berthadm::ClusterInfoKubeconfig(cp_->server(), *ca),
                                                                  {token})
                                        .dump())
                  .ok());
  ASSERT_TRUE(Kubectl(admin_, {"apply", "-f", file}).ok());
  // No credentials at all (kubectl would prompt for a password, so curl, as
  // join fetches it): cluster-info is readable, nothing else is.
  auto anonymous_get = [&](const std::string& path) {
    return RunCommand({"/usr/bin/curl", "-sS", "--fail", "--cacert", cp_->pki() + "/ca.crt", cp_->server() + path},
                      absl::Seconds(30));
  };
  auto fetched = anonymous_get("/api/v1/namespaces/kube-public/configmaps/cluster-info");
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  auto denied = anonymous_get("/api/v1/namespaces/kube-public/configmaps");
  ASSERT_FALSE(denied.ok());
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("401"));
  auto found = berthadm::DiscoverFromClusterInfo(nlohmann::json::parse(*fetched), token,
                                                 {*berthadm::CaCertHash(*ca)});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->server, cp_->server());
  EXPECT_EQ(found->ca_pem, *ca);

  // The same through `berthadm discover`, join's first step.
  std::string endpoint = cp_->server().substr(std::string("https://").size());
  std::string pin = *berthadm::CaCertHash(*ca);
  auto discovered = RunCommand({BERTHADM_PATH, "discover", endpoint, "--token", token.ToString(),
                                "--discovery-token-ca-cert-hash", pin},
                               absl::Seconds(30));
  ASSERT_TRUE(discovered.ok()) << discovered.status();
  EXPECT_THAT(*discovered, HasSubstr("API server " + cp_->server()));
  auto wrong_pin = RunCommand({BERTHADM_PATH, "discover", endpoint, "--token", token.ToString(),
                               "--discovery-token-ca-cert-hash", "sha256:" + std::string(64, 'a')},
                              absl::Seconds(30));
  ASSERT_FALSE(wrong_pin.ok());
  EXPECT_THAT(std::string(wrong_pin.status().message()), HasSubstr("is " + pin + ", not the pinned"));
  auto wrong_token = RunCommand({BERTHADM_PATH, "discover", endpoint, "--token", "abcdef.ffffffffffffffff",
                                 "--discovery-token-ca-cert-hash", pin},
                                absl::Seconds(30));
  ASSERT_FALSE(wrong_token.ok());
  EXPECT_THAT(std::string(wrong_token.status().message()), HasSubstr("does not match token abcdef"));
}

// init's bootstrap-token phase and `berthadm token create / list / delete`
// against the real control plane with admin.conf, checked the way join uses
// them: discovery through the signed cluster-info, authentication as the token.
TEST_F(BootstrapTokenE2eTest, BerthadmTokenCommandsPublishAndWithdrawJoinCredentials) {
  auto phase = RunCommand({BERTHADM_PATH, "init", "phase", "bootstrap-token", "--kubeconfig", admin_},
                          absl::Seconds(30));
  ASSERT_TRUE(phase.ok()) << phase.status();
  EXPECT_THAT(*phase, HasSubstr("Creating the \"cluster-info\" ConfigMap"));
  std::string prefix = "[bootstrap-token] Using token: ";
  size_t at = phase->find(prefix);
  ASSERT_NE(at, std::string::npos) << *phase;
  std::string init_token = phase->substr(at + prefix.size(), 23);

  auto join = RunCommand({BERTHADM_PATH, "token", "create", "--ttl", "2h", "--description", "second node",
                          "--print-join-command", "--kubeconfig", admin_},
                         absl::Seconds(30));
  ASSERT_TRUE(join.ok()) << join.status();
  // "berthadm join HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H": its discovery works.
  std::vector<std::string> words = absl::StrSplit(absl::StripAsciiWhitespace(*join), ' ');
  ASSERT_EQ(words.size(), 7u) << *join;
  EXPECT_EQ(words[1], "join");
  EXPECT_EQ("https://" + words[2], cp_->server());
  std::string token = words[4];
  auto discovered = RunCommand({BERTHADM_PATH, "discover", words[2], "--token", token,
                                "--discovery-token-ca-cert-hash", words[6]},
                               absl::Seconds(30));
  ASSERT_TRUE(discovered.ok()) << discovered.status();
  auto as_token = Kubectl(TokenKubeconfig(token), {"get", "--raw", "/version"});
  EXPECT_TRUE(as_token.ok()) << as_token.status();

  auto listed = RunCommand({BERTHADM_PATH, "token", "list", "--kubeconfig", admin_}, absl::Seconds(30));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, HasSubstr(init_token));
  EXPECT_THAT(*listed, HasSubstr(token));
  EXPECT_THAT(*listed, HasSubstr("second node"));
  EXPECT_THAT(*listed, HasSubstr("authentication,signing"));

  auto deleted = RunCommand({BERTHADM_PATH, "token", "delete", token.substr(0, 6), "--kubeconfig", admin_},
                            absl::Seconds(30));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  // Its signature is gone from cluster-info and it no longer authenticates.
  auto gone = RunCommand({BERTHADM_PATH, "discover", words[2], "--token", token, "--discovery-token-ca-cert-hash",
                          words[6]},
                         absl::Seconds(30));
  EXPECT_FALSE(gone.ok());
  EXPECT_FALSE(Kubectl(TokenKubeconfig(token), {"get", "--raw", "/version"}).ok());
  // The init token still works for discovery.
  EXPECT_TRUE(RunCommand({BERTHADM_PATH, "discover", words[2], "--token", init_token,
                          "--discovery-token-ca-cert-hash", words[6]},
                         absl::Seconds(30))
                  .ok());
  auto unknown = RunCommand({BERTHADM_PATH, "token", "delete", "zzzzzz", "--kubeconfig", admin_}, absl::Seconds(30));
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("no bootstrap token with id zzzzzz"));
}

}  // namespace
}  // namespace berth::e2e
