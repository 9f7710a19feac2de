#include "device-plugin/sharing_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<Gpu> FourGpus() {
  std::vector<Gpu> gpus;
  for (int i = 0; i < 4; ++i) {
    Gpu g;
    g.index = i;
    g.uuid = "GPU-" + std::to_string(i);
    gpus.push_back(g);
  }
  return gpus;
}

absl::StatusOr<std::vector<int>> Replicas(const std::string& yaml) {
  auto config = ParseSharingConfig(yaml, "nvidia.com/gpu");
  if (!config.ok()) return config.status();
  return ResolveReplicas(*config, FourGpus());
}

TEST(SharingConfig, NvidiaShapeForAllGpus) {
  auto r = Replicas(R"(version: v1
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 4
)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(4, 4, 4, 4));
}

TEST(SharingConfig, PerGpuByIndexAndUuidOverridesAll) {
  auto r = Replicas(R"(version: v1
sharing:
  timeSlicing:
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/gpu
      replicas: 2
    - name: nvidia.com/gpu
      replicas: 8
      devices: [1, "GPU-3"]
)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(2, 8, 2, 8));
  auto config = ParseSharingConfig("sharing: {timeSlicing: {failRequestsGreaterThanOne: true}}", "nvidia.com/gpu");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->fail_requests_greater_than_one);
}

TEST(SharingConfig, CountAndOnlySomeGpus) {
  auto r = Replicas(R"(sharing:
  timeSlicing:
    resources:
    - {name: nvidia.com/gpu, replicas: 3, devices: 2}
)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(3, 3, 1, 1));
}

TEST(SharingConfig, EmptyIsNothingShared) {
  auto r = Replicas("");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(1, 1, 1, 1));
  auto only_version = Replicas("version: v1\n");
  ASSERT_TRUE(only_version.ok());
  EXPECT_THAT(*only_version, ElementsAre(1, 1, 1, 1));
}

struct BadCase {
  const char* yaml;
  const char* key;
};

TEST(SharingConfig, ErrorsNameTheKey) {
  const BadCase cases[] = {
      {"version: v2\n", "version"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 0\n",
       "sharing.timeSlicing.resources[0].replicas"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: two\n",
       "sharing.timeSlicing.resources[0].replicas"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: amd.com/gpu\n      replicas: 2\n",
       "sharing.timeSlicing.resources[0].name"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replica: 2\n",
       "sharing.timeSlicing.resources[0].replica"},
      {"sharing:\n  timeSliceing: {}\n", "sharing.timeSliceing"},
      {"sharing:\n  timeSlicing:\n    renameByDefault: true\n", "sharing.timeSlicing.renameByDefault"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 2\n      devices: [1, {}]\n",
       "sharing.timeSlicing.resources[0].devices[1]"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 2\n      devices: [7]\n",
       "sharing.timeSlicing.resources[0].devices[0]"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - {name: nvidia.com/gpu, replicas: 2, devices: [1]}\n"
       "    - {name: nvidia.com/gpu, replicas: 3, devices: [GPU-1]}\n",
       "sharing.timeSlicing.resources[1].devices"},
      {"sharing:\n  timeSlicing:\n    resources:\n    - {name: nvidia.com/gpu, replicas: 2}\n"
       "    - {name: nvidia.com/gpu, replicas: 3, devices: all}\n",
       "sharing.timeSlicing.resources[1].devices"},
      {"sharing: [1]\n", "sharing"},
      {"oops: 1\n", "oops"},
  };
  for (const auto& c : cases) {
    auto r = Replicas(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(std::string(c.key) + ":")) << c.yaml;
  }
}

TEST(SharingConfig, UnparsableYamlIsAnError) {
  auto r = ParseSharingConfig("sharing: [\n", "nvidia.com/gpu");
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace berth::gpu
