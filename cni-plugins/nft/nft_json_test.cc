#include "cni-plugins/nft/nft_json.h"

#include "cni-plugins/nft/nft.h"
#include "gtest/gtest.h"

namespace berth::cninft {
namespace {

// A listing as nft 1.0.6 prints it (trimmed).
const char kListing[] = R"([
  {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
  {"table": {"family": "inet", "name": "t", "handle": 1}},
  {"map": {"family": "inet", "name": "m4", "table": "t", "type": "ipv4_addr", "map": "verdict",
           "elem": [["10.22.0.5", {"jump": {"target": "c1"}}],
                    ["10.22.0.6", {"jump": {"target": "c2"}}],
                    [{"elem": {"val": "10.22.0.7", "comment": "x"}}, {"goto": {"target": "c1"}}]]}},
  {"map": {"family": "inet", "name": "pm", "table": "t", "type": ["inet_proto", "inet_service"],
           "map": "verdict",
           "elem": [[{"concat": ["tcp", 8080]}, {"jump": {"target": "c1"}}]]}},
  {"set": {"family": "inet", "name": "s", "table": "t", "type": "ipv4_addr", "flags": ["interval"],
           "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, {"range": ["1.1.1.1", "1.1.1.9"]}]}},
  {"chain": {"family": "inet", "table": "t", "name": "c1", "handle": 4}},
  {"rule": {"family": "inet", "table": "t", "chain": "c1", "handle": 8, "expr": []}},
  {"rule": {"family": "inet", "table": "t", "chain": "c2", "handle": 9, "expr": []}}
])";

TEST(NftJsonTest, MapKeysJumpingTo) {
  auto listing = nlohmann::json::parse(kListing);
  EXPECT_EQ(MapKeysJumpingTo(listing, "m4", "c1"),
            (std::vector<std::string>{"10.22.0.5", "10.22.0.7"}));
  EXPECT_EQ(MapKeysJumpingTo(listing, "m4", "c2"), (std::vector<std::string>{"10.22.0.6"}));
  EXPECT_TRUE(MapKeysJumpingTo(listing, "m4", "c3").empty());
  EXPECT_TRUE(MapKeysJumpingTo(listing, "nomap", "c1").empty());
  EXPECT_EQ(MapKeysJumpingTo(listing, "pm", "c1"), (std::vector<std::string>{"tcp . 8080"}));
  auto entries = MapEntries(listing, "m4");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1], (std::pair<std::string, std::string>{"10.22.0.6", "c2"}));
}

TEST(NftJsonTest, ElementKeysChainsRules) {
  auto listing = nlohmann::json::parse(kListing);
  EXPECT_EQ(ElementKeys(listing, "s"),
            (std::vector<std::string>{"10.0.0.0/8", "1.1.1.1-1.1.1.9"}));
  EXPECT_TRUE(HasChain(listing, "c1"));
  EXPECT_FALSE(HasChain(listing, "c2"));
  EXPECT_EQ(RulesOf(listing, "c2").size(), 1u);
  EXPECT_EQ(CountRules(listing), 2);
}

TEST(NftJsonTest, IdentityHashIsStableAndSeparatesParts) {
  EXPECT_EQ(IdentityHash({"net", "id", "eth0"}), IdentityHash({"net", "id", "eth0"}));
  EXPECT_EQ(IdentityHash({"a"}).size(), 16u);
  EXPECT_NE(IdentityHash({"ab", "c"}), IdentityHash({"a", "bc"}));
  EXPECT_NE(IdentityHash({"net", "id", "eth0"}), IdentityHash({"net", "id", "eth1"}));
}

TEST(NftJsonTest, CommentLiteralIsSafe) {
  EXPECT_EQ(CommentLiteral("a \"b\" \\c"), "\"a _b_ _c\"");
  EXPECT_EQ(CommentLiteral(std::string(300, 'x')).size(), 122u);
}

}  // namespace
}  // namespace berth::cninft
