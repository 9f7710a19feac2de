// AddMasquerade / DeleteMasquerade against the kernel, each test in a private
// network namespace of its own (nftables state is per namespace), verified
// by listing the table.
#include "cni-plugins/nft/masquerade.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/testing/netns_testing.h"

namespace berth::cniplugin {
namespace {

using ::testing::UnorderedElementsAre;

class MasqueradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    auto original = cni::testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
  }
  void TearDown() override {
    // The namespace, and every rule in it, goes away with the thread's move back.
    if (orig_netns_ >= 0) {
      EXPECT_TRUE(cni::testing::LeavePrivateNetns(orig_netns_).ok());
    }
  }

  nlohmann::json Listing() {
    auto listed = cninft::ListJson("table inet berth-cni");
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : nlohmann::json::array();
  }

  int orig_netns_ = -1;
};

TEST_F(MasqueradeTest, AddCreatesChainRulesAndElements) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "fd00:22::5/64"}).ok());
  nlohmann::json l = Listing();
  std::string chain = MasqueradeChainName("net1", "c1", "eth0");
  EXPECT_TRUE(cninft::HasChain(l, chain));
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq4", chain), UnorderedElementsAre("10.22.0.5"));
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq6", chain), UnorderedElementsAre("fd00:22::5"));
  // subnet v4, subnet v6, multicast v4, multicast v6, masquerade.
  auto rules = cninft::RulesOf(l, chain);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_TRUE(rules.back()["expr"].dump().find("masquerade") != std::string::npos);
  EXPECT_TRUE(absl::StrContains(rules.back().value("comment", ""), "id=c1"));
  std::string all = l.dump();
  EXPECT_TRUE(absl::StrContains(all, "\"10.22.0.0\"")) << all;
  EXPECT_TRUE(absl::StrContains(all, "\"224.0.0.0\""));
  EXPECT_TRUE(absl::StrContains(all, "\"ff00::\""));
  // The base chain dispatches on the source address.
  EXPECT_EQ(cninft::RulesOf(l, "masq-postrouting").size(), 2u);
}

TEST_F(MasqueradeTest, AddIsIdempotentAndReplaces) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json first = Listing();
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json second = Listing();
  EXPECT_EQ(cninft::CountRules(first), cninft::CountRules(second));
  std::string chain = MasqueradeChainName("net1", "c1", "eth0");
  EXPECT_THAT(cninft::MapKeysJumpingTo(second, "masq4", chain), UnorderedElementsAre("10.22.0.5"));
  // A new address for the same attachment replaces the old one.
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.9/16"}).ok());
  EXPECT_THAT(cninft::MapKeysJumpingTo(Listing(), "masq4", chain),
              UnorderedElementsAre("10.22.0.9"));
}

TEST_F(MasqueradeTest, AddTakesOverAnAddressAStaleAttachmentHolds) {
  ASSERT_TRUE(AddMasquerade("net1", "old", "eth0", {"10.22.0.5/16"}).ok());
  ASSERT_TRUE(AddMasquerade("net1", "new", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json l = Listing();
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq4", MasqueradeChainName("net1", "new", "eth0")),
              UnorderedElementsAre("10.22.0.5"));
  EXPECT_TRUE(cninft::MapKeysJumpingTo(l, "masq4", MasqueradeChainName("net1", "old", "eth0")).empty());
  // The stale attachment's DEL leaves the new one alone.
  ASSERT_TRUE(DeleteMasquerade("net1", "old", "eth0").ok());
  EXPECT_THAT(cninft::ElementKeys(Listing(), "masq4"), UnorderedElementsAre("10.22.0.5"));
}

TEST_F(MasqueradeTest, RepairsABaseChainWithExtraRules) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  ASSERT_TRUE(cninft::RunBatch("add rule inet berth-cni masq-postrouting ip saddr vmap @masq4\n",
                               "duplicate").ok());
  ASSERT_EQ(cninft::RulesOf(Listing(), "masq-postrouting").size(), 3u);
  // A repeated ADD takes the slow path, which repairs the base chain.
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  EXPECT_EQ(cninft::RulesOf(Listing(), "masq-postrouting").size(), 2u);
}

TEST_F(MasqueradeTest, DeleteRemovesExactlyItsRules) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "fd00:22::5/64"}).ok());
  ASSERT_TRUE(AddMasquerade("net1", "c2", "eth0", {"10.22.0.6/16"}).ok());
  ASSERT_TRUE(AddMasquerade("net2", "c1", "eth0", {"10.23.0.5/16"}).ok());
  ASSERT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  nlohmann::json l = Listing();
  EXPECT_FALSE(cninft::HasChain(l, MasqueradeChainName("net1", "c1", "eth0")));
  EXPECT_TRUE(cninft::HasChain(l, MasqueradeChainName("net1", "c2", "eth0")));
  EXPECT_TRUE(cninft::HasChain(l, MasqueradeChainName("net2", "c1", "eth0")));
  EXPECT_THAT(cninft::ElementKeys(l, "masq4"), UnorderedElementsAre("10.22.0.6", "10.23.0.5"));
  EXPECT_TRUE(cninft::ElementKeys(l, "masq6").empty());
  // Idempotent: again, and for an attachment that never existed.
  EXPECT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  EXPECT_TRUE(DeleteMasquerade("net9", "nope", "eth0").ok());
  ASSERT_TRUE(DeleteMasquerade("net1", "c2", "eth0").ok());
  ASSERT_TRUE(DeleteMasquerade("net2", "c1", "eth0").ok());
  l = Listing();
  EXPECT_TRUE(cninft::ElementKeys(l, "masq4").empty());
  // Only the two dispatch rules of the base chain remain.
  EXPECT_EQ(cninft::CountRules(l), 2);
}

TEST_F(MasqueradeTest, DeleteWithoutTableIsOk) {
  EXPECT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  auto exists = cninft::TableExists("inet", "berth-cni");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(MasqueradeTest, BadInputNamesItAndChangesNothing) {
  absl::Status s = AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "10.22.0.300/16"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "10.22.0.300/16")) << s;
  EXPECT_EQ(AddMasquerade("net1", "c1", "eth0", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddMasquerade("", "c1", "eth0", {"10.0.0.1/8"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DeleteMasquerade("net1", "", "eth0").code(), absl::StatusCode::kInvalidArgument);
  auto exists = cninft::TableExists("inet", "berth-cni");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(MasqueradeTest, RunBatchIsAtomicAndNamesTheFailure) {
  // The second command fails, so the first one (a table) must not appear.
  absl::Status s = cninft::RunBatch(
      "add table inet berth-atomic\nadd rule inet berth-atomic nochain accept\n", "atomic test");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "atomic test")) << s;
  auto exists = cninft::TableExists("inet", "berth-atomic");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

}  // namespace
}  // namespace berth::cniplugin
