#include "device-plugin/preferred_allocation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "device-plugin/device_ids.h"

namespace berth::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::vector<Gpu> Gpus(int n) {
  std::vector<Gpu> gpus;
  for (int i = 0; i < n; ++i) {
    Gpu g;
    g.index = i;
    g.uuid = "GPU-" + std::to_string(i);
    gpus.push_back(g);
  }
  return gpus;
}

std::vector<std::string> Ids(std::initializer_list<int> indexes) {
  std::vector<std::string> out;
  for (int i : indexes) out.push_back("GPU-" + std::to_string(i));
  return out;
}

// A DGX-1-like hybrid cube mesh reduced to 8 GPUs in two islands of four:
// 0-1-2-3 fully linked (2 links each), 4-5-6-7 fully linked, and one link
// between 0 and 4.
GpuTopology TwoIslands() {
  GpuTopology t;
  t.nvlinks.assign(8, std::vector<int>(8, 0));
  auto link = [&](int a, int b, int n) {
    t.nvlinks[a][b] = n;
    t.nvlinks[b][a] = n;
  };
  for (int base : {0, 4}) {
    for (int a = base; a < base + 4; ++a) {
      for (int b = a + 1; b < base + 4; ++b) link(a, b, 2);
    }
  }
  link(0, 4, 1);
  return t;
}

TEST(PreferredAllocation, PackedLowestIndexWithoutTopology) {
  auto gpus = Gpus(4);
  EXPECT_THAT(PreferredAllocation(gpus, {}, Ids({3, 1, 2, 0}), {}, 2), ElementsAre("GPU-0", "GPU-1"));
  EXPECT_THAT(PreferredAllocation(gpus, {}, Ids({3, 2}), {}, 1), ElementsAre("GPU-2"));
}

TEST(PreferredAllocation, MustIncludeComesFirstAndCounts) {
  auto gpus = Gpus(4);
  EXPECT_THAT(PreferredAllocation(gpus, {}, Ids({0, 1, 2, 3}), Ids({3}), 2), ElementsAre("GPU-3", "GPU-0"));
  EXPECT_THAT(PreferredAllocation(gpus, {}, Ids({0, 1, 2, 3}), Ids({3, 2}), 2), ElementsAre("GPU-3", "GPU-2"));
}

TEST(PreferredAllocation, NvlinkIslandPreferred) {
  auto gpus = Gpus(8);
  GpuTopology topo = TwoIslands();
  // 1 and 2 are taken: the free full island is 4..7.
  auto four = PreferredAllocation(gpus, topo, Ids({0, 3, 4, 5, 6, 7}), {}, 4);
  EXPECT_THAT(four, UnorderedElementsAre("GPU-4", "GPU-5", "GPU-6", "GPU-7"));
  // With 4 required, its island partners are chosen over the lower indexes.
  auto with_four = PreferredAllocation(gpus, topo, Ids({0, 1, 2, 3, 4, 5, 6, 7}), Ids({4}), 2);
  EXPECT_THAT(with_four, ElementsAre("GPU-4", "GPU-5"));
  // Two from {1, 4, 5}: 4-5 are linked, 1 is linked to neither.
  EXPECT_THAT(PreferredAllocation(gpus, topo, Ids({1, 4, 5}), {}, 2), UnorderedElementsAre("GPU-4", "GPU-5"));
}

TEST(PreferredAllocation, SamePciRootWhenNoNvlinks) {
  auto gpus = Gpus(4);
  GpuTopology topo;
  topo.pci_closeness.assign(4, std::vector<int>(4, 0));
  // 1 and 3 share a switch.
  topo.pci_closeness[1][3] = topo.pci_closeness[3][1] = 3;
  EXPECT_THAT(PreferredAllocation(gpus, topo, Ids({0, 1, 2, 3}), {}, 2), UnorderedElementsAre("GPU-1", "GPU-3"));
}

TEST(PreferredAllocation, LargeSetsFallBackToGreedy) {
  auto gpus = Gpus(40);
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) all.push_back("GPU-" + std::to_string(i));
  auto chosen = PreferredAllocation(gpus, {}, all, {}, 20);
  ASSERT_EQ(chosen.size(), 20u);
  EXPECT_EQ(chosen.front(), "GPU-0");
  EXPECT_EQ(chosen.back(), "GPU-19");
}

TEST(PreferredAllocation, ReplicasSpreadOverLeastUsedGpus) {
  auto gpus = Gpus(2);
  // GPU-0 has 1 free replica left, GPU-1 has 3: one replica goes to GPU-1.
  std::vector<std::string> available = {ReplicaId("GPU-0", 3), ReplicaId("GPU-1", 1), ReplicaId("GPU-1", 2),
                                        ReplicaId("GPU-1", 3)};
  EXPECT_THAT(PreferredAllocation(gpus, {}, available, {}, 1), ElementsAre("GPU-1::1"));
  // Two: one on each GPU before doubling up.
  EXPECT_THAT(PreferredAllocation(gpus, {}, available, {}, 2), UnorderedElementsAre("GPU-1::1", "GPU-0::3"));
}

TEST(PreferredAllocation, FewerAvailableThanAsked) {
  auto gpus = Gpus(2);
  EXPECT_THAT(PreferredAllocation(gpus, {}, Ids({1}), {}, 2), ElementsAre("GPU-1"));
  EXPECT_THAT(PreferredAllocation(gpus, {}, {"other"}, {}, 1), ElementsAre("other"));
}

}  // namespace
}  // namespace berth::gpu
