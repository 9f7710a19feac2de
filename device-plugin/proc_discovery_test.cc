#include "device-plugin/proc_discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "device-plugin/fake_gpu_tree.h"
#include "device-plugin/gpu.h"

namespace berth::gpu {
namespace {

using ::testing::HasSubstr;

TEST(ParseGpuInformation, ReadsTheDriverFields) {
  auto info = ParseGpuInformation(
      "Model: \t\t Tesla V100-SXM2-16GB\nIRQ:   \t\t 33\nGPU UUID: \t GPU-1b2c3d4e-0000-1111-2222-333344445555\n"
      "Video BIOS: \t 88.00.4f.00.09\nBus Type: \t PCIe\nDMA Size: \t 47 bits\nBus Location: \t 0000:00:1e.0\n"
      "Device Minor: \t 3\nGPU Excluded:\t No\n",
      "info");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->model, "Tesla V100-SXM2-16GB");
  EXPECT_EQ(info->uuid, "GPU-1b2c3d4e-0000-1111-2222-333344445555");
  EXPECT_EQ(info->minor, 3);
  EXPECT_EQ(info->bus_location, "0000:00:1e.0");
  EXPECT_EQ(info->fields.at("Video BIOS"), "88.00.4f.00.09");
  EXPECT_EQ(info->fields.at("IRQ"), "33");
}

TEST(ParseGpuInformation, MissingOrBadFieldsAreNamed) {
  auto no_uuid = ParseGpuInformation("Model: x\nDevice Minor: 0\n", "/p/information");
  ASSERT_FALSE(no_uuid.ok());
  EXPECT_THAT(no_uuid.status().message(), HasSubstr("/p/information"));
  EXPECT_THAT(no_uuid.status().message(), HasSubstr("GPU UUID"));
  auto no_minor = ParseGpuInformation("GPU UUID: GPU-a\n", "f");
  ASSERT_FALSE(no_minor.ok());
  EXPECT_THAT(no_minor.status().message(), HasSubstr("Device Minor"));
  auto bad_minor = ParseGpuInformation("GPU UUID: GPU-a\nDevice Minor: 255\n", "f");
  ASSERT_FALSE(bad_minor.ok());
  EXPECT_THAT(bad_minor.status().message(), HasSubstr("\"255\""));
}

TEST(NormalizePciBusId, NvmlAndSysfsFormsMatch) {
  EXPECT_EQ(NormalizePciBusId("00000000:3B:00.0"), "0000:3b:00.0");
  EXPECT_EQ(NormalizePciBusId("0000:3b:00.0"), "0000:3b:00.0");
  EXPECT_EQ(NormalizePciBusId("00000001:3B:00.0"), "0001:3b:00.0");
}

TEST(DiscoverFromProcTree, IndexesInPciOrderWithNodesAndSysfs) {
  auto tree = FakeGpuTree::Create();
  ASSERT_TRUE(tree.ok()) << tree.status();
  // Added out of order: the index follows the PCI bus id.
  ASSERT_TRUE(tree->AddGpu("0000:86:00.0", "GPU-bbbb", 1, "Tesla T4", "pci0000:80/0000:80:02.0/0000:86:00.0").ok());
  ASSERT_TRUE(tree->AddGpu("0000:3b:00.0", "GPU-aaaa", 0, "Tesla T4", "pci0000:00/0000:00:02.0/0000:3b:00.0").ok());
  ASSERT_TRUE(tree->AddGpu("0000:3c:00.0", "GPU-cccc", 2, "Tesla T4", "pci0000:00/0000:00:02.0/0000:3c:00.0").ok());
  ASSERT_TRUE(tree->AddFile("/proc/driver/nvidia/version",
                            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n")
                  .ok());
  auto inv = DiscoverFromProcTree(tree->root());
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_EQ(inv->gpus.size(), 3u);
  EXPECT_EQ(inv->source, "proc");
  EXPECT_EQ(inv->driver_version, "535.104.05");
  EXPECT_EQ(inv->gpus[0].uuid, "GPU-aaaa");
  EXPECT_EQ(inv->gpus[1].uuid, "GPU-cccc");
  EXPECT_EQ(inv->gpus[2].uuid, "GPU-bbbb");
  EXPECT_EQ(inv->gpus[2].index, 2);
  EXPECT_EQ(inv->gpus[2].minor, 1);
  EXPECT_EQ(inv->gpus[2].device_path, tree->root() + "/dev/nvidia1");
  EXPECT_EQ(inv->gpus[0].model, "Tesla T4");
  EXPECT_EQ(inv->gpus[0].numa_node, 0);
  // aaaa and cccc share root port 0000:00:02.0; bbbb is on another root complex.
  ASSERT_EQ(inv->topology.pci_closeness.size(), 3u);
  EXPECT_EQ(inv->topology.pci_closeness[0][1], 2);
  EXPECT_EQ(inv->topology.pci_closeness[0][2], 0);
  EXPECT_FALSE(inv->topology.HasNvlinks());
}

TEST(DiscoverFromProcTree, NoDriverIsNoGpusAndABadFileIsNamed) {
  auto tree = FakeGpuTree::Create();
  ASSERT_TRUE(tree.ok());
  auto none = DiscoverFromProcTree(tree->root());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->gpus.empty());
  ASSERT_TRUE(tree->AddFile("/proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: x\n").ok());
  auto bad = DiscoverFromProcTree(tree->root());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("0000:01:00.0/information"));
}

TEST(DiscoverFromProcTree, DuplicateMinorIsAnError) {
  auto tree = FakeGpuTree::Create();
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(tree->AddGpu("0000:01:00.0", "GPU-a", 0).ok());
  ASSERT_TRUE(tree->AddGpu("0000:02:00.0", "GPU-b", 0).ok());
  auto inv = DiscoverFromProcTree(tree->root());
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(inv.status().message(), HasSubstr("already used by 0000:01:00.0"));
}

}  // namespace
}  // namespace berth::gpu
