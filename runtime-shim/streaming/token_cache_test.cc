#include "runtime-shim/streaming/token_cache.h"

#include <set>

#include "gtest/gtest.h"

namespace berth::streaming {
namespace {

::runtime::v1::ExecRequest Exec(const std::string& id) {
  ::runtime::v1::ExecRequest req;
  req.set_container_id(id);
  req.add_cmd("true");
  return req;
}

TEST(TokenCacheTest, TokenIsSingleUse) {
  TokenCache cache;
  auto token = cache.Insert(Exec("c1"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->size(), 11u);
  EXPECT_EQ(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto first = cache.Consume(*token);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(std::holds_alternative<::runtime::v1::ExecRequest>(*first));
  EXPECT_EQ(std::get<::runtime::v1::ExecRequest>(*first).container_id(), "c1");
  auto second = cache.Consume(*token);
  EXPECT_TRUE(absl::IsNotFound(second.status()));
  EXPECT_NE(second.status().message().find("unknown or already used"), std::string::npos);
}

TEST(TokenCacheTest, UnknownTokenIsNotFound) {
  TokenCache cache;
  EXPECT_TRUE(absl::IsNotFound(cache.Consume("nope").status()));
}

TEST(TokenCacheTest, TokensAreDistinct) {
  TokenCache cache;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto token = cache.Insert(Exec("c"));
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(seen.insert(*token).second);
  }
  EXPECT_EQ(cache.size(), 200u);
}

TEST(TokenCacheTest, ExpiresAfterTtl) {
  int64_t now = 1000;
  TokenCache cache(absl::Minutes(1), 1000, [&] { return now; });
  auto early = cache.Insert(Exec("a"));
  auto late = cache.Insert(Exec("b"));
  ASSERT_TRUE(early.ok() && late.ok());
  now += absl::ToInt64Nanoseconds(absl::Seconds(59));
  EXPECT_TRUE(cache.Consume(*early).ok());
  now += absl::ToInt64Nanoseconds(absl::Seconds(1));
  auto expired = cache.Consume(*late);
  EXPECT_TRUE(absl::IsNotFound(expired.status()));
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos) << expired.status();
}

TEST(TokenCacheTest, FullCacheRefusesUntilEntriesExpire) {
  int64_t now = 0;
  TokenCache cache(absl::Seconds(10), 2, [&] { return now; });
  ASSERT_TRUE(cache.Insert(Exec("a")).ok());
  ASSERT_TRUE(cache.Insert(::runtime::v1::PortForwardRequest()).ok());
  auto refused = cache.Insert(Exec("c"));
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  now += absl::ToInt64Nanoseconds(absl::Seconds(10));
  EXPECT_TRUE(cache.Insert(Exec("d")).ok());
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace berth::streaming
