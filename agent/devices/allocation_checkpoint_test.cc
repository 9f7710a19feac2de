#include "agent/devices/allocation_checkpoint.h"

#include "gtest/gtest.h"

namespace berth::agent::devices {
namespace {

TEST(AllocationCheckpointTest, RoundTripsAndDetectsCorruption) {
  DeviceCheckpoint c;
  PodDevicesEntry e;
  e.pod_uid = "uid-1";
  e.container_name = "c";
  e.resource_name = "example.com/widget";
  e.device_ids = {"w0", "w1"};
  (*e.response.mutable_envs())["WIDGET_IDS"] = "w0,w1";
  c.entries.push_back(e);
  c.registered_devices["example.com/widget"] = {"w0", "w1", "w2"};
  std::string text = EncodeCheckpoint(c);
  auto back = DecodeCheckpoint(text);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->entries.size(), 1u);
  EXPECT_EQ(back->entries[0].device_ids, e.device_ids);
  EXPECT_EQ(back->entries[0].response.envs().at("WIDGET_IDS"), "w0,w1");
  EXPECT_EQ(back->registered_devices["example.com/widget"].size(), 3u);

  std::string tampered = text;
  tampered.replace(tampered.find("w2"), 2, "w9");
  EXPECT_EQ(DecodeCheckpoint(tampered).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeCheckpoint("{").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::agent::devices
