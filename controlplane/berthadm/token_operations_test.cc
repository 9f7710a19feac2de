#include "controlplane/berthadm/token_operations.h"

#include "absl/strings/match.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/berthadm/cluster_info.h"
#include "controlplane/berthadm/pki.h"
#include "controlplane/client/local_api_test_env.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

namespace res = client::resources;

class TokenOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    auto ca = IssueCertificate(CertSpec{.common_name = "kubernetes", .is_ca = true}, nullptr);
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_pem_ = ca->cert_pem;
  }
  BootstrapToken Token(const std::string& text) { return *ParseBootstrapToken(text); }

  client::LocalApiTestEnv env_;
  std::string ca_pem_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(TokenOperationsTest, CreatedTokensSignClusterInfoAndJoinDiscoversThroughThem) {
  BootstrapToken first = Token("abcdef.0123456789abcdef");
  ASSERT_TRUE(UploadClusterInfo(*env_.client(), "https://10.0.0.5:6443", ca_pem_, {first}).ok());
  ASSERT_TRUE(CreateToken(*env_.client(), first, absl::Hours(24), "from init", now_).ok());
  BootstrapToken second = Token("ghijkl.0123456789abcdef");
  ASSERT_TRUE(CreateToken(*env_.client(), second, absl::ZeroDuration(), "", now_).ok());

  auto info = env_.client()->Get(res::kConfigMaps, "kube-public", "cluster-info");
  ASSERT_TRUE(info.ok()) << info.status();
  auto found = DiscoverFromClusterInfo(*info, second, {}, /*unsafe_skip_ca_verification=*/true);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->server, "https://10.0.0.5:6443");
  EXPECT_TRUE(DiscoverFromClusterInfo(*info, first, {}, true).ok());

  // A second token with a taken id is refused, naming it.
  auto taken = CreateToken(*env_.client(), Token("abcdef.ffffffffffffffff"), absl::Hours(1), "", now_);
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  EXPECT_TRUE(absl::StrContains(taken.message(), "abcdef")) << taken;

  auto rows = ListTokens(*env_.client(), now_ + absl::Hours(1));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].token, "abcdef.0123456789abcdef");
  EXPECT_EQ((*rows)[0].ttl, "23h");
  EXPECT_EQ((*rows)[0].usages, "authentication,signing");
  EXPECT_EQ((*rows)[0].description, "from init");
  EXPECT_EQ((*rows)[0].extra_groups, "system:bootstrappers:kubeadm:default-node-token");
  EXPECT_EQ((*rows)[1].ttl, "<forever>");
  std::string table = TokenTable(*rows);
  EXPECT_TRUE(absl::StartsWith(table, "TOKEN ")) << table;
  EXPECT_TRUE(absl::StrContains(table, "ghijkl.0123456789abcdef")) << table;

  // Deleting by id removes the Secret and its signature; by the whole token too.
  ASSERT_TRUE(DeleteToken(*env_.client(), "ghijkl").ok());
  info = env_.client()->Get(res::kConfigMaps, "kube-public", "cluster-info");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(DiscoverFromClusterInfo(*info, second, {}, true).ok());
  EXPECT_TRUE(DiscoverFromClusterInfo(*info, first, {}, true).ok());
  ASSERT_TRUE(DeleteToken(*env_.client(), "abcdef.0123456789abcdef").ok());
  rows = ListTokens(*env_.client(), now_);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(TokenOperationsTest, BadOrUnknownTokensAreNamed) {
  auto unknown = DeleteToken(*env_.client(), "zzzzzz");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown.message(), "zzzzzz")) << unknown;
  auto bad = DeleteToken(*env_.client(), "ABC");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.message(), "\"ABC\"")) << bad;
  EXPECT_FALSE(DeleteToken(*env_.client(), "abcdef.short").ok());
  // Without cluster-info, a token is still created (nothing to sign yet).
  EXPECT_TRUE(CreateToken(*env_.client(), Token("mnopqr.0123456789abcdef"), absl::Hours(2), "", now_).ok());
  EXPECT_TRUE(absl::IsNotFound(env_.client()->Get(res::kConfigMaps, "kube-public", "cluster-info").status()));
}

}  // namespace
}  // namespace berth::berthadm
