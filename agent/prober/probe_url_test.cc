#include "agent/prober/probe_url.h"

#include <gtest/gtest.h>

namespace berth::agent::prober {
namespace {

TEST(ProbeUrlTest, MakeProbeUrlAddsSlashAndKeepsQuery) {
  ProbeUrl u = MakeProbeUrl("HTTPS", "10.0.0.5", 8443, "healthz?verbose=1");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.target, "/healthz?verbose=1");
  EXPECT_EQ(u.String(), "https://10.0.0.5:8443/healthz?verbose=1");
  EXPECT_EQ(MakeProbeUrl("", "fd00::1", 80, "").String(), "http://[fd00::1]:80/");
}

TEST(ProbeUrlTest, ParsesAbsoluteUrls) {
  auto u = ParseProbeUrl("http://example.test/a/b?x#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "example.test");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/a/b?x");
  auto v6 = ParseProbeUrl("https://[::1]:8443");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->target, "/");
  EXPECT_FALSE(ParseProbeUrl("ftp://x/").ok());
  EXPECT_FALSE(ParseProbeUrl("http://x:99999/").ok());
  EXPECT_FALSE(ParseProbeUrl("no-scheme").ok());
}

TEST(ProbeUrlTest, ResolvesLocations) {
  ProbeUrl base = MakeProbeUrl("http", "127.0.0.1", 8080, "/a/b/c?q=1");
  EXPECT_EQ(ResolveLocation(base, "/x")->String(), "http://127.0.0.1:8080/x");
  EXPECT_EQ(ResolveLocation(base, "d")->String(), "http://127.0.0.1:8080/a/b/d");
  EXPECT_EQ(ResolveLocation(base, "../d?z")->String(), "http://127.0.0.1:8080/a/d?z");
  EXPECT_EQ(ResolveLocation(base, "//other:81/y")->String(), "http://other:81/y");
  EXPECT_EQ(ResolveLocation(base, "https://h/")->String(), "https://h:443/");
  EXPECT_EQ(ResolveLocation(base, "/../../etc")->String(), "http://127.0.0.1:8080/etc");
}

}  // namespace
}  // namespace berth::agent::prober
