#include "controlplane/berthadm/cluster_info.h"

#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/pki.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::berthadm {
namespace {

using ::testing::HasSubstr;

class ClusterInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = IssueCertificate({.common_name = "kubernetes", .is_ca = true}, nullptr);
    ASSERT_TRUE(ca.ok());
    ca_ = *ca;
    pin_ = *CaCertHash(ca_.cert_pem);
    map_ = ClusterInfoConfigMap(ClusterInfoKubeconfig("https://192.0.2.10:6443", ca_.cert_pem), {token_, other_});
  }
  KeyAndCert ca_;
  std::string pin_;
  BootstrapToken token_{"abcdef", "0123456789abcdef"};
  BootstrapToken other_{"uvwxyz", "aaaaaaaaaaaaaaaa"};
  nlohmann::json map_;
};

TEST_F(ClusterInfoTest, JoinFindsServerAndCaWithItsTokenAndPin) {
  EXPECT_EQ(map_["metadata"]["namespace"], "kube-public");
  EXPECT_TRUE(map_["data"].contains("jws-kubeconfig-abcdef"));
  EXPECT_TRUE(map_["data"].contains("jws-kubeconfig-uvwxyz"));
  for (const auto& token : {token_, other_}) {
    auto found = DiscoverFromClusterInfo(map_, token, {pin_});
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->server, "https://192.0.2.10:6443");
    EXPECT_EQ(found->ca_pem, ca_.cert_pem);
  }
}

TEST_F(ClusterInfoTest, EachFailedCheckIsNamed) {
  EXPECT_THAT(std::string(DiscoverFromClusterInfo(map_, token_, {}).status().message()),
              HasSubstr("no discovery-token-ca-cert-hash"));
  EXPECT_TRUE(DiscoverFromClusterInfo(map_, token_, {}, /*unsafe_skip_ca_verification=*/true).ok());
  BootstrapToken unknown{"zzzzzz", "0123456789abcdef"};
  EXPECT_THAT(std::string(DiscoverFromClusterInfo(map_, unknown, {pin_}).status().message()),
              HasSubstr("no signature for token id \"zzzzzz\""));
  BootstrapToken wrong_secret{"abcdef", "bbbbbbbbbbbbbbbb"};
  EXPECT_EQ(DiscoverFromClusterInfo(map_, wrong_secret, {pin_}).status().code(), absl::StatusCode::kPermissionDenied);
  // A man in the middle with its own CA, re-signing needs the token: changed
  // content alone fails the signature; a right signature with another CA
  // fails the pin.
  auto evil_ca = IssueCertificate({.common_name = "kubernetes", .is_ca = true}, nullptr);
  ASSERT_TRUE(evil_ca.ok());
  nlohmann::json tampered = map_;
  tampered["data"]["kubeconfig"] = ClusterInfoKubeconfig("https://192.0.2.66:6443", evil_ca->cert_pem);
  EXPECT_THAT(std::string(DiscoverFromClusterInfo(tampered, token_, {pin_}).status().message()),
              HasSubstr("does not match token abcdef"));
  nlohmann::json resigned = ClusterInfoConfigMap(ClusterInfoKubeconfig("https://192.0.2.66:6443", evil_ca->cert_pem),
                                                 {token_});
  auto pinned = DiscoverFromClusterInfo(resigned, token_, {pin_});
  EXPECT_EQ(pinned.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(pinned.status().message()), HasSubstr("not the pinned " + pin_));
}

}  // namespace
}  // namespace berth::berthadm
