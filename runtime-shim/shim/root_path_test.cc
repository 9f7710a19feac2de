#include "runtime-shim/shim/root_path.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::shim {
namespace {

class ResolveInRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-root-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(MkdirAll(root_ + "/usr/lib").ok());
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }
  std::string root_;
};

TEST_F(ResolveInRootTest, PlainPathsJoin) {
  EXPECT_EQ(*ResolveInRoot(root_, "/usr/lib"), root_ + "/usr/lib");
  EXPECT_EQ(*ResolveInRoot(root_, "/new/dir"), root_ + "/new/dir");
  EXPECT_EQ(*ResolveInRoot(root_, "/"), root_);
}

TEST_F(ResolveInRootTest, DotDotStopsAtRoot) {
  EXPECT_EQ(*ResolveInRoot(root_, "/../../etc"), root_ + "/etc");
}

TEST_F(ResolveInRootTest, AbsoluteSymlinkStaysUnderRoot) {
  ASSERT_EQ(::symlink("/etc", (root_ + "/escape").c_str()), 0);
  EXPECT_EQ(*ResolveInRoot(root_, "/escape/passwd"), root_ + "/etc/passwd");
}

TEST_F(ResolveInRootTest, RelativeSymlinkWithDotDotStaysUnderRoot) {
  ASSERT_EQ(::symlink("../../../../tmp", (root_ + "/usr/lib/up").c_str()), 0);
  EXPECT_EQ(*ResolveInRoot(root_, "/usr/lib/up/x"), root_ + "/tmp/x");
  ASSERT_EQ(::symlink("lib", (root_ + "/usr/lib64").c_str()), 0);
  EXPECT_EQ(*ResolveInRoot(root_, "/usr/lib64/x"), root_ + "/usr/lib/x");
}

TEST_F(ResolveInRootTest, SymlinkLoopIsAnError) {
  ASSERT_EQ(::symlink("/loop", (root_ + "/loop").c_str()), 0);
  auto resolved = ResolveInRoot(root_, "/loop/x");
  ASSERT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("/loop/x"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
