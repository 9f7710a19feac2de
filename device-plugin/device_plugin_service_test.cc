// DeviceState and the service's Allocate answer, without gRPC.
#include "device-plugin/device_plugin_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "device-plugin/fake_gpu_tree.h"
#include "device-plugin/proc_discovery.h"

namespace berth::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = FakeGpuTree::CreateWithTwoGpus();
    ASSERT_TRUE(t.ok()) << t.status();
    tree_ = *std::move(t);
    auto inv = DiscoverFromProcTree(tree_->root());
    ASSERT_TRUE(inv.ok()) << inv.status();
    state_ = std::make_unique<DeviceState>(*std::move(inv));
    service_ = std::make_unique<GpuDevicePluginService>(state_.get(), tree_->root());
  }
  std::unique_ptr<FakeGpuTree> tree_;
  std::unique_ptr<DeviceState> state_;
  std::unique_ptr<GpuDevicePluginService> service_;
};

std::vector<std::string> Ids(const DeviceList& list) {
  std::vector<std::string> out;
  for (const auto& d : list.devices) out.push_back(d.id + (d.healthy ? "" : "!"));
  return out;
}

TEST_F(ServiceTest, AllocateGivesNodesEnvAndCdiDevices) {
  auto resp = service_->AllocateContainer({"GPU-bbbb"});
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->envs().at("NVIDIA_VISIBLE_DEVICES"), "GPU-bbbb");
  std::vector<std::string> paths, hosts;
  for (const auto& d : resp->devices()) {
    paths.push_back(d.container_path());
    hosts.push_back(d.host_path());
    EXPECT_EQ(d.permissions(), "rw");
  }
  EXPECT_THAT(paths, ElementsAre("/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"));
  EXPECT_EQ(hosts[0], tree_->root() + "/dev/nvidia1");
  ASSERT_EQ(resp->cdi_devices_size(), 1);
  EXPECT_EQ(resp->cdi_devices(0).name(), "nvidia.com/gpu=GPU-bbbb");
}

TEST_F(ServiceTest, UnknownIdIsRefusedNamingIt) {
  auto resp = service_->AllocateContainer({"GPU-aaaa", "GPU-zzzz"});
  ASSERT_FALSE(resp.ok());
  EXPECT_THAT(resp.status().message(), HasSubstr("GPU-zzzz"));
}

TEST_F(ServiceTest, ReplicasAdvertisedAndMappedBackToTheirGpu) {
  int calls = 0;
  int token = state_->Subscribe([&] { ++calls; });
  SharingConfig config;
  EXPECT_TRUE(state_->SetSharing(config, {2, 1}));
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(Ids(state_->Devices()), ElementsAre("GPU-aaaa::0", "GPU-aaaa::1", "GPU-bbbb"));
  auto resp = service_->AllocateContainer({"GPU-aaaa::1", "GPU-aaaa::0"});
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->envs().at("NVIDIA_VISIBLE_DEVICES"), "GPU-aaaa");
  EXPECT_EQ(resp->cdi_devices_size(), 1);
  EXPECT_FALSE(service_->AllocateContainer({"GPU-aaaa::2"}).ok());
  config.fail_requests_greater_than_one = true;
  state_->SetSharing(config, {2, 1});
  auto refused = service_->AllocateContainer({"GPU-aaaa::1", "GPU-aaaa::0"});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("failRequestsGreaterThanOne"));
  state_->Unsubscribe(token);
}

TEST_F(ServiceTest, HealthSourcesCombine) {
  uint64_t gen = state_->Devices().generation;
  EXPECT_TRUE(state_->SetHealth(0, HealthSource::kNvml, false, "critical Xid 79"));
  EXPECT_FALSE(state_->SetHealth(0, HealthSource::kFile, false, "file"));
  EXPECT_THAT(Ids(state_->Devices()), ElementsAre("GPU-aaaa!", "GPU-bbbb"));
  EXPECT_FALSE(state_->SetHealth(0, HealthSource::kNvml, true, "recovered"));  // the file still says no
  EXPECT_TRUE(state_->SetHealth(0, HealthSource::kFile, true, "removed"));
  EXPECT_THAT(Ids(state_->Devices()), ElementsAre("GPU-aaaa", "GPU-bbbb"));
  EXPECT_EQ(state_->Devices().generation, gen + 2);
  EXPECT_EQ(state_->FindGpu("1"), 1);
  EXPECT_EQ(state_->FindGpu("GPU-aaaa"), 0);
  EXPECT_EQ(state_->FindGpu("GPU-x"), -1);
}

}  // namespace
}  // namespace berth::gpu
