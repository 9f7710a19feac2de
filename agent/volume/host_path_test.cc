// hostPath type checks and creation, under a temporary root.
#include "agent/volume/host_path.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/volume/testing/volume_test_env.h"

namespace berth::agent::volume {
namespace {

class HostPathTest : public testing::TempRootTest {
 protected:
  absl::Status Run(const std::string& path, const std::string& type) {
    return SetUpHostPath(k8s::HostPathVolumeSource{path, type});
  }
  std::string P(const std::string& rel) { return root_ + "/" + rel; }
};

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST_F(HostPathTest, UnsetTypeChecksNothing) {
  EXPECT_TRUE(Run(P("missing"), "").ok());
  EXPECT_TRUE(SetUpHostPath(k8s::HostPathVolumeSource{P("missing"), std::nullopt}).ok());
  EXPECT_FALSE(PathExists(P("missing")));
}

TEST_F(HostPathTest, DirectoryOrCreateMakesParentsWith0755) {
  umask(077);
  EXPECT_TRUE(Run(P("a/b/c"), "DirectoryOrCreate").ok());
  umask(022);
  EXPECT_TRUE(S_ISDIR(Mode(P("a/b/c"))));
  EXPECT_EQ(Mode(P("a/b/c")) & 07777, 0755u);
  EXPECT_TRUE(Run(P("a/b/c"), "DirectoryOrCreate").ok());  // again: fine
  ASSERT_TRUE(Run(P("f"), "FileOrCreate").ok());
  absl::Status st = Run(P("f"), "DirectoryOrCreate");
  EXPECT_EQ(st.message(), "hostPath type check failed: " + P("f") + " is not a directory");
}

TEST_F(HostPathTest, DirectoryMustExist) {
  absl::Status st = Run(P("nope"), "Directory");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "hostPath type check failed: " + P("nope") + " is not a directory");
  EXPECT_FALSE(PathExists(P("nope")));
  EXPECT_TRUE(Run(root_, "Directory").ok());
}

TEST_F(HostPathTest, FileOrCreateNeedsTheParent) {
  umask(077);
  EXPECT_TRUE(Run(P("file"), "FileOrCreate").ok());
  umask(022);
  EXPECT_TRUE(S_ISREG(Mode(P("file"))));
  EXPECT_EQ(Mode(P("file")) & 07777, 0644u);
  absl::Status st = Run(P("no-parent/file"), "FileOrCreate");
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(PathExists(P("no-parent")));
  EXPECT_EQ(Run(root_, "FileOrCreate").message(), "hostPath type check failed: " + root_ + " is not a file");
}

TEST_F(HostPathTest, FileSocketCharAndBlockDevices) {
  ASSERT_TRUE(Run(P("file"), "FileOrCreate").ok());
  EXPECT_TRUE(Run(P("file"), "File").ok());
  EXPECT_EQ(Run(root_, "File").message(), "hostPath type check failed: " + root_ + " is not a file");
  EXPECT_EQ(Run(P("gone"), "File").message(), "hostPath type check failed: " + P("gone") + " is not a file");

  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock = P("s.sock");
  ASSERT_LT(sock.size(), sizeof(addr.sun_path));
  std::copy(sock.begin(), sock.end(), addr.sun_path);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_TRUE(Run(sock, "Socket").ok());
  close(fd);
  EXPECT_EQ(Run(P("file"), "Socket").message(), "hostPath type check failed: " + P("file") + " is not a socket file");

  ASSERT_EQ(mknod(P("chr").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  ASSERT_EQ(mknod(P("blk").c_str(), S_IFBLK | 0600, makedev(7, 250)), 0);
  EXPECT_TRUE(Run(P("chr"), "CharDevice").ok());
  EXPECT_TRUE(Run(P("blk"), "BlockDevice").ok());
  EXPECT_EQ(Run(P("blk"), "CharDevice").message(),
            "hostPath type check failed: " + P("blk") + " is not a character device");
  EXPECT_EQ(Run(P("chr"), "BlockDevice").message(),
            "hostPath type check failed: " + P("chr") + " is not a block device");
}

TEST_F(HostPathTest, BadTypeAndRelativePathNameTheField) {
  absl::Status st = ValidateHostPath(k8s::HostPathVolumeSource{"/x", "Dir"}, "spec.volumes[3].hostPath");
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_NE(st.message().find("spec.volumes[3].hostPath.type: Unsupported value: \"Dir\""), std::string::npos);
  st = ValidateHostPath(k8s::HostPathVolumeSource{"rel/x", ""}, "spec.volumes[0].hostPath");
  EXPECT_NE(st.message().find("spec.volumes[0].hostPath.path: Invalid value: \"rel/x\""), std::string::npos);
}

}  // namespace
}  // namespace berth::agent::volume
