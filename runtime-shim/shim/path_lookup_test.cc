#include "runtime-shim/shim/path_lookup.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::shim {
namespace {

class PathLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-path-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/a").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/b").ok());
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  void MakeFile(const std::string& path, mode_t mode) {
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, mode);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  std::string dir_;
};

TEST_F(PathLookupTest, NameWithSlashIsUsedAsIs) {
  auto path = LookupExecutable("./x", {});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "./x");
}

TEST_F(PathLookupTest, FirstExecutableInPathWins) {
  MakeFile(dir_ + "/a/tool", 0644);  // not executable: skipped
  MakeFile(dir_ + "/b/tool", 0755);
  auto path = LookupExecutable("tool", {"PATH=" + dir_ + "/a:" + dir_ + "/b"});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir_ + "/b/tool");
}

TEST_F(PathLookupTest, DirectoriesAreSkipped) {
  ASSERT_TRUE(MkdirAll(dir_ + "/a/tool").ok());
  MakeFile(dir_ + "/b/tool", 0755);
  auto path = LookupExecutable("tool", {"PATH=" + dir_ + "/a:" + dir_ + "/b"});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, dir_ + "/b/tool");
}

TEST_F(PathLookupTest, MissingNamesThePath) {
  auto path = LookupExecutable("nope", {"PATH=" + dir_ + "/a"});
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(path.status().message().find(dir_ + "/a"), std::string::npos);
}

TEST_F(PathLookupTest, DefaultPathWithoutPathVariable) {
  auto path = LookupExecutable("sh", {"HOME=/root"});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_TRUE(path->ends_with("/sh"));
}

TEST(EnvValueTest, LastEntryWinsAndPrefixesDoNotMatch) {
  bool found = false;
  EXPECT_EQ(EnvValue({"PATHX=1", "PATH=/a", "PATH=/b"}, "PATH", &found), "/b");
  EXPECT_TRUE(found);
  EXPECT_EQ(EnvValue({"PATHX=1"}, "PATH", &found), "");
  EXPECT_FALSE(found);
}

}  // namespace
}  // namespace berth::shim
