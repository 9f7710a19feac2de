#include "agent/devices/device_selection.h"

#include "agent/devices/extended_resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent::devices {
namespace {

using ::testing::ElementsAre;

TEST(SelectDevicesTest, MustIncludeThenPreferredThenFirstFree) {
  SelectionRequest r{"example.com/widget", {"a", "b", "c", "d"}, {"x"}, 3, {"zz", "d", "d"}};
  auto chosen = SelectDevices(r);
  ASSERT_TRUE(chosen.ok());
  // "zz" is not available and the repeated "d" counts once.
  EXPECT_THAT(*chosen, ElementsAre("x", "d", "a"));
}

TEST(SelectDevicesTest, NotEnoughIsTheKubeletsMessage) {
  SelectionRequest r{"example.com/widget", {"a"}, {}, 2, {}};
  auto chosen = SelectDevices(r);
  EXPECT_EQ(chosen.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(chosen.status().message()),
            "requested number of devices unavailable for example.com/widget. Requested: 2, Available: 1");
}

TEST(ExtendedResourceNameTest, Names) {
  EXPECT_TRUE(IsExtendedResourceName("example.com/widget"));
  EXPECT_TRUE(IsExtendedResourceName("nvidia.com/gpu"));
  EXPECT_FALSE(IsExtendedResourceName("cpu"));
  EXPECT_FALSE(IsExtendedResourceName("kubernetes.io/widget"));
  EXPECT_FALSE(IsExtendedResourceName("node.kubernetes.io/widget"));
  EXPECT_FALSE(IsExtendedResourceName("requests.example.com/widget"));
  EXPECT_FALSE(IsExtendedResourceName("example.com/-bad"));
  EXPECT_FALSE(IsExtendedResourceName(""));
}

TEST(ExtendedResourceLimitsTest, OnlyExtendedWholeCounts) {
  k8s::Container c;
  c.resources.limits["cpu"] = *k8s::Quantity::Parse("2");
  c.resources.limits["example.com/widget"] = *k8s::Quantity::Parse("2");
  c.resources.limits["example.com/zero"] = *k8s::Quantity::Parse("0");
  auto limits = ExtendedResourceLimits(c);
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits["example.com/widget"], 2);
}

}  // namespace
}  // namespace berth::agent::devices
