#include "agent/devices/container_devices.h"

#include "gtest/gtest.h"

namespace berth::agent::devices {
namespace {

TEST(MergeAllocateResponsesTest, FirstWinsAndDeviceEnvsGoFirst) {
  v1beta1::ContainerAllocateResponse a, b;
  (*a.mutable_envs())["B"] = "1";
  (*a.mutable_envs())["A"] = "1";
  (*b.mutable_envs())["A"] = "2";  // conflict: the first wins
  auto* d = a.add_devices();
  d->set_container_path("/dev/w0");
  d->set_host_path("/dev/null");
  d->set_permissions("rw");
  *b.add_devices() = *d;
  b.add_cdi_devices()->set_name("example.com/widget=w0");
  b.add_cdi_devices()->set_name("example.com/widget=w0");
  (*b.mutable_annotations())["k"] = "v";
  auto* m = b.add_mounts();
  m->set_container_path("/data");
  m->set_host_path("/srv");

  cri::ContainerConfig config;
  auto* own = config.add_envs();
  own->set_key("A");
  own->set_value("own");
  MergeAllocateResponses({a, b}, &config);
  ASSERT_EQ(config.envs_size(), 3);
  EXPECT_EQ(config.envs(0).key(), "A");
  EXPECT_EQ(config.envs(0).value(), "1");
  EXPECT_EQ(config.envs(1).key(), "B");
  EXPECT_EQ(config.envs(2).value(), "own");  // the container's own env comes last and wins in the runtime
  ASSERT_EQ(config.devices_size(), 1);
  EXPECT_EQ(config.devices(0).permissions(), "rw");
  ASSERT_EQ(config.cdi_devices_size(), 1);
  ASSERT_EQ(config.mounts_size(), 1);
  EXPECT_EQ(config.mounts(0).host_path(), "/srv");
  EXPECT_EQ(config.annotations().at("k"), "v");
}

}  // namespace
}  // namespace berth::agent::devices
