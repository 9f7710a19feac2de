#include "runtime-shim/shim/mount_options.h"

#include <sys/mount.h>

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

TEST(MountOptionsTest, FlagsPropagationAndData) {
  MountOptions o = ParseMountOptions({"rbind", "ro", "nosuid", "rprivate", "mode=755", "size=1k"});
  EXPECT_EQ(o.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID);
  EXPECT_EQ(o.propagation, MS_PRIVATE | MS_REC);
  EXPECT_EQ(o.data, "mode=755,size=1k");
  EXPECT_TRUE(o.bind());
  EXPECT_TRUE(o.readonly());
}

TEST(MountOptionsTest, LaterOptionsOverrideEarlier) {
  MountOptions o = ParseMountOptions({"ro", "rw", "noexec", "exec", "rshared", "slave"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE));
  EXPECT_FALSE(o.readonly());
}

TEST(MountOptionsTest, BindTypeIsABind) {
  MountOptions o = ParseMountOptions({}, "bind");
  EXPECT_TRUE(o.bind());
  EXPECT_EQ(o.flags & MS_REC, 0u);
  EXPECT_TRUE(o.data.empty());
}

}  // namespace
}  // namespace berth::shim
