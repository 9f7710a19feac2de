#include "controlplane/apiserver/bootstrap_token_auth.h"

#include <map>

#include "absl/strings/escaping.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "gtest/gtest.h"

namespace berth::apiserver {
namespace {

class BootstrapTokenAuthTest : public ::testing::Test {
 protected:
  BootstrapTokenAuthTest()
      : auth_([this](const std::string& name) -> std::optional<nlohmann::json> {
                  auto it = secrets_.find(name);
                  if (it == secrets_.end()) return std::nullopt;
                  return it->second;
                },
                [this] { return now_; }) {}

  void Store(const berthadm::BootstrapToken& token, absl::Duration ttl = berthadm::kDefaultBootstrapTokenTtl) {
    secrets_["bootstrap-token-" + token.id] = berthadm::BootstrapTokenSecret(token, ttl, now_, "test");
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::map<std::string, nlohmann::json> secrets_;
  BootstrapTokenAuthenticator auth_;
  berthadm::BootstrapToken token_{"abcdef", "0123456789abcdef"};
};

TEST_F(BootstrapTokenAuthTest, AValidTokenIsABootstrapperWithKubeadmsExtraGroup) {
  Store(token_);
  auto user = auth_.Authenticate(token_.ToString());
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, "system:bootstrap:abcdef");
  EXPECT_EQ(user->groups, (std::vector<std::string>{"system:bootstrappers",
                                                    "system:bootstrappers:kubeadm:default-node-token",
                                                    "system:authenticated"}));
  EXPECT_TRUE(BootstrapTokenAuthenticator::LooksLikeBootstrapToken(token_.ToString()));
  EXPECT_FALSE(BootstrapTokenAuthenticator::LooksLikeBootstrapToken("static-token-from-a-csv"));
}

TEST_F(BootstrapTokenAuthTest, WrongMissingExpiredOrUnusableTokensAreRefused) {
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());  // no Secret
  Store(token_);
  EXPECT_FALSE(auth_.Authenticate("abcdef.fedcba9876543210").has_value());
  EXPECT_FALSE(auth_.Authenticate("not-a-token").has_value());
  now_ += absl::Hours(25);
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());
  now_ -= absl::Hours(25);
  ASSERT_TRUE(auth_.Authenticate(token_.ToString()).has_value());

  auto& secret = secrets_["bootstrap-token-abcdef"];
  secret["data"]["usage-bootstrap-authentication"] = absl::Base64Escape("false");
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());
  Store(token_);
  secret["data"]["auth-extra-groups"] = absl::Base64Escape("system:masters");
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());
  Store(token_);
  secret["type"] = "Opaque";
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());
  Store(token_);
  secret["metadata"]["deletionTimestamp"] = "2027-01-01T00:00:00Z";
  EXPECT_FALSE(auth_.Authenticate(token_.ToString()).has_value());
}

}  // namespace
}  // namespace berth::apiserver
