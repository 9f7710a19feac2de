#include "common/fs.h"

#include <sys/stat.h>

#include <cstdlib>

#include "gtest/gtest.h"

namespace berth {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-fs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }
  std::string root_;
};

TEST_F(FsTest, AtomicWriteReplacesContentAndLeavesNoTemporaries) {
  std::string path = root_ + "/state.json";
  ASSERT_TRUE(AtomicWriteFile(path, "one").ok());
  ASSERT_TRUE(AtomicWriteFile(path, "two").ok());
  EXPECT_EQ(*ReadFile(path), "two");
  auto names = ListDir(root_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
}

TEST_F(FsTest, AtomicWriteIntoMissingDirectoryFailsWithPath) {
  absl::Status status = AtomicWriteFile(root_ + "/missing/file", "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("missing"), std::string::npos);
}

TEST_F(FsTest, MkdirAllAndRemoveAll) {
  ASSERT_TRUE(MkdirAll(root_ + "/a/b/c").ok());
  ASSERT_TRUE(AtomicWriteFile(root_ + "/a/b/c/f", "x").ok());
  ASSERT_TRUE(symlink("/etc", (root_ + "/a/link").c_str()) == 0);
  ASSERT_TRUE(RemoveAll(root_ + "/a").ok());
  EXPECT_FALSE(PathExists(root_ + "/a"));
  EXPECT_TRUE(PathExists("/etc/passwd")) << "RemoveAll must not follow symlinks";
  EXPECT_TRUE(RemoveAll(root_ + "/never-existed").ok());
}

TEST(JoinUnderRootTest, NeverLeavesRoot) {
  EXPECT_EQ(JoinUnderRoot("/r", "../../etc/passwd"), "/r/etc/passwd");
  EXPECT_EQ(JoinUnderRoot("/r/", "/a//b/./c"), "/r/a/b/c");
  EXPECT_EQ(JoinUnderRoot("/r", "a/../../.."), "/r");
  EXPECT_EQ(JoinUnderRoot("/", "x/y"), "/x/y");
}

TEST(CleanPathTest, Cleans) {
  EXPECT_EQ(CleanPath("a//b/../c/."), "a/c");
  EXPECT_EQ(CleanPath("/../x"), "/x");
  EXPECT_EQ(CleanPath("../x"), "../x");
  EXPECT_EQ(CleanPath(""), ".");
}

}  // namespace
}  // namespace berth
