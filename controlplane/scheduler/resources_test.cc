#include "controlplane/scheduler/resources.h"

#include <gtest/gtest.h>

namespace berth::scheduler {
namespace {

k8s::ResourceList List(std::initializer_list<std::pair<const char*, const char*>> items) {
  k8s::ResourceList out;
  for (const auto& [name, text] : items) out[name] = *k8s::Quantity::Parse(text);
  return out;
}

TEST(ResourcesTest, FromListUsesMilliCpuBytesAndUnits) {
  auto r = ResourcesFromList(List({{"cpu", "1500m"}, {"memory", "1Gi"}, {"nvidia.com/gpu", "2"},
                                   {"ephemeral-storage", "1G"}}),
                             "requests");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->milli_cpu, 1500);
  EXPECT_EQ(r->memory, 1LL << 30);
  EXPECT_EQ(r->ephemeral_storage, 1000000000);
  EXPECT_EQ(r->Get("nvidia.com/gpu"), 2);
  EXPECT_EQ(r->Get("example.com/foo"), 0);
}

TEST(ResourcesTest, NegativeAmountNamesTheField) {
  auto r = ResourcesFromList(List({{"cpu", "-1"}}), "spec.containers[0].resources.requests");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "spec.containers[0].resources.requests[cpu]: must be greater than or equal to 0, got -1");
}

TEST(ResourcesTest, AddSubtractMax) {
  Resources a, b;
  a.Set("cpu", 100);
  a.Set("b.io/x", 1);
  b.Set("memory", 5);
  b.Set("a.io/y", 3);
  b.Set("b.io/x", 2);
  a.Add(b);
  EXPECT_EQ(a.Get("cpu"), 100);
  EXPECT_EQ(a.Get("memory"), 5);
  EXPECT_EQ(a.Get("a.io/y"), 3);
  EXPECT_EQ(a.Get("b.io/x"), 3);
  ASSERT_EQ(a.scalar.size(), 2u);
  EXPECT_EQ(a.scalar[0].first, "a.io/y");  // kept sorted
  a.Subtract(b);
  EXPECT_EQ(a.Get("b.io/x"), 1);
  EXPECT_FALSE(a.IsZero());
  Resources c;
  c.Set("cpu", 50);
  c.Set("b.io/x", 7);
  a.SetMax(c);
  EXPECT_EQ(a.Get("cpu"), 100);
  EXPECT_EQ(a.Get("b.io/x"), 7);
  EXPECT_TRUE(Resources{}.IsZero());
}

}  // namespace
}  // namespace berth::scheduler
