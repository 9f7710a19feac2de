#include "device-plugin/cdi_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/fs.h"
#include "device-plugin/fake_gpu_tree.h"
#include "device-plugin/proc_discovery.h"

namespace berth::gpu {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

class CdiSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = FakeGpuTree::CreateWithTwoGpus();
    ASSERT_TRUE(t.ok()) << t.status();
    tree_ = *std::move(t);
    const std::string lib = "/usr/lib/x86_64-linux-gnu/";
    ASSERT_TRUE(tree_->AddFile(lib + "libcuda.so.535.104.05").ok());
    ASSERT_TRUE(tree_->AddSymlink(lib + "libcuda.so.1", "libcuda.so.535.104.05").ok());
    ASSERT_TRUE(tree_->AddFile(lib + "libnvidia-ml.so.535.104.05").ok());
    ASSERT_TRUE(tree_->AddFile(lib + "libnvidia-ptxjitcompiler.so.535.104.05").ok());
    ASSERT_TRUE(tree_->AddFile(lib + "libc.so.6").ok());
    ASSERT_TRUE(tree_->AddFile("/opt/nv/lib/libnvidia-extra.so.1").ok());
    ASSERT_TRUE(tree_->AddFile("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n").ok());
    ASSERT_TRUE(tree_->AddFile("/etc/ld.so.conf.d/nv.conf", "# nvidia\n/opt/nv/lib\n").ok());
    ASSERT_TRUE(tree_->AddFile("/usr/bin/nvidia-smi", "#!/bin/sh\n", 0755).ok());
    ASSERT_TRUE(tree_->AddFile("/usr/bin/nvidia-debugdump", "#!/bin/sh\n", 0755).ok());
    ASSERT_TRUE(tree_->AddFile("/usr/bin/nvidia-settings-notused", "", 0755).ok());
  }
  std::unique_ptr<FakeGpuTree> tree_;
};

std::vector<std::string> Field(const json& list, const char* key) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.at(key).get<std::string>());
  return out;
}

TEST_F(CdiSpecTest, FindsDriverLibrariesAndBinaries) {
  DriverFiles files = FindDriverFiles(tree_->root(), "");
  std::vector<std::string> libs, bins;
  for (const auto& f : files.libraries) libs.push_back(f.container_path);
  for (const auto& f : files.binaries) bins.push_back(f.container_path);
  EXPECT_THAT(libs, Contains("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
  EXPECT_THAT(libs, Contains("/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05"));
  EXPECT_THAT(libs, Contains("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05"));
  EXPECT_THAT(libs, Contains("/opt/nv/lib/libnvidia-extra.so.1"));  // from ld.so.conf.d
  EXPECT_THAT(libs, Not(Contains("/usr/lib/x86_64-linux-gnu/libc.so.6")));
  EXPECT_THAT(bins, Contains("/usr/bin/nvidia-smi"));
  EXPECT_THAT(bins, Contains("/usr/bin/nvidia-debugdump"));
  EXPECT_EQ(bins.size(), 2u);
  EXPECT_EQ(files.libraries[0].host_path, tree_->root() + files.libraries[0].container_path);
  EXPECT_TRUE(IsDriverLibraryName("libnvidia-encode.so.1"));
  EXPECT_FALSE(IsDriverLibraryName("libnvidia-foo.txt"));
}

TEST_F(CdiSpecTest, SpecHasADevicePerGpuAndCommonEdits) {
  auto inv = DiscoverFromProcTree(tree_->root());
  ASSERT_TRUE(inv.ok()) << inv.status();
  json spec = BuildCdiSpec(*inv, FindDriverFiles(tree_->root(), ""), tree_->root());
  EXPECT_EQ(spec["cdiVersion"], "0.5.0");
  EXPECT_EQ(spec["kind"], "nvidia.com/gpu");
  std::vector<std::string> names = Field(spec["devices"], "name");
  EXPECT_EQ(names, (std::vector<std::string>{"GPU-aaaa", "0", "GPU-bbbb", "1"}));
  const json& node = spec["devices"][2]["containerEdits"]["deviceNodes"][0];
  EXPECT_EQ(node["path"], "/dev/nvidia1");
  EXPECT_EQ(node["hostPath"], tree_->root() + "/dev/nvidia1");
  EXPECT_EQ(node["type"], "c");
  EXPECT_EQ(node["major"], 195);
  EXPECT_EQ(node["minor"], 1);
  const json& common = spec["containerEdits"];
  EXPECT_EQ(Field(common["deviceNodes"], "path"),
            (std::vector<std::string>{"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"}));
  EXPECT_EQ(common["deviceNodes"][0]["minor"], 255);
  std::vector<std::string> mounted = Field(common["mounts"], "containerPath");
  EXPECT_THAT(mounted, Contains("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
  EXPECT_THAT(mounted, Contains("/usr/bin/nvidia-smi"));
  for (const auto& m : common["mounts"]) {
    EXPECT_THAT(m["options"].get<std::vector<std::string>>(), Contains("ro"));
    EXPECT_THAT(m["options"].get<std::vector<std::string>>(), Contains("bind"));
    EXPECT_THAT(m["hostPath"].get<std::string>(), HasSubstr(tree_->root()));
  }
  EXPECT_EQ(CdiDeviceName("GPU-aaaa"), "nvidia.com/gpu=GPU-aaaa");
}

TEST_F(CdiSpecTest, WrittenAtomicallyAsJson) {
  auto inv = DiscoverFromProcTree(tree_->root());
  ASSERT_TRUE(inv.ok());
  std::string path = tree_->root() + "/var/run/cdi/berth-nvidia.json";
  ASSERT_TRUE(WriteCdiSpec(path, BuildCdiSpec(*inv, {}, tree_->root())).ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  json back = json::parse(*text);
  EXPECT_EQ(back["devices"].size(), 4u);
  EXPECT_FALSE(back["containerEdits"].contains("mounts"));
}

}  // namespace
}  // namespace berth::gpu
