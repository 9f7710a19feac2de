#include "controlplane/apiserver/authentication.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

TEST(TokenAuthenticatorTest, ParsesKubeApiserverCsv) {
  auto auth = TokenAuthenticator::Parse(
      "# comment\n"
      "abc123,admin,uid-1,\"system:masters,ops\"\n"
      "node-token,system:node:n1,uid-2,system:nodes\n"
      "plain,bob,uid-3\n",
      "tokens.csv");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->size(), 3u);
  const UserInfo* admin = (*auth)->Authenticate("abc123");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->name, "admin");
  EXPECT_EQ(admin->uid, "uid-1");
  EXPECT_TRUE(admin->InGroup("system:masters"));
  EXPECT_TRUE(admin->InGroup("ops"));
  EXPECT_TRUE(admin->InGroup("system:authenticated"));
  EXPECT_TRUE((*auth)->Authenticate("node-token")->InGroup("system:nodes"));
  EXPECT_EQ((*auth)->Authenticate("wrong"), nullptr);
  EXPECT_EQ((*auth)->Authenticate(""), nullptr);
}

TEST(TokenAuthenticatorTest, BadLinesNamed) {
  auto short_line = TokenAuthenticator::Parse("a,b,c\nonly,two\n", "t.csv");
  ASSERT_FALSE(short_line.ok());
  EXPECT_NE(short_line.status().message().find("t.csv line 2"), std::string::npos) << short_line.status();
  EXPECT_FALSE(TokenAuthenticator::Parse("a,b,c\na,d,e\n", "t.csv").ok());  // duplicate token
}

TEST(BearerTokenTest, Header) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer  abc "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken(""), "");
}

}  // namespace
}  // namespace berth::apiserver
