#include "agent/config/kubelet_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

TEST(KubeletConfigTest, DefaultsAreTheKubelets) {
  auto c = ParseKubeletConfig(kHeader);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->maxPods, 110);
  EXPECT_EQ(c->syncFrequency, absl::Minutes(1));
  EXPECT_EQ(c->fileCheckFrequency, absl::Seconds(20));
  EXPECT_TRUE(c->serializeImagePulls);
  EXPECT_EQ(c->podPidsLimit, -1);
  EXPECT_EQ(c->containerLogMaxSize, "10Mi");
  EXPECT_EQ(c->containerLogMaxFiles, 5);
  EXPECT_EQ(c->healthzPort, 10248);
  EXPECT_EQ(c->healthzBindAddress, "127.0.0.1");
  EXPECT_EQ(c->cgroupDriver, "cgroupfs");
  EXPECT_FALSE(c->cgroupDriverSet);
  EXPECT_EQ(c->podLogsDir, "/var/log/pods");
}

TEST(KubeletConfigTest, ReadsEveryField) {
  std::string text = std::string(kHeader) + R"(
staticPodPath: /etc/berth/manifests
maxPods: 30
cgroupDriver: systemd
cgroupRoot: /berth
clusterDNS: [10.96.0.10, "fd00::a"]
clusterDomain: cluster.local
syncFrequency: 1m30s
fileCheckFrequency: 500ms
serializeImagePulls: false
podPidsLimit: 4096
containerLogMaxSize: 20Mi
containerLogMaxFiles: 3
healthzPort: 10300
healthzBindAddress: 127.0.0.2
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: 0.0.0.0
evictionHard: {memory.available: 100Mi}
)";
  auto c = ParseKubeletConfig(text);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->staticPodPath, "/etc/berth/manifests");
  EXPECT_EQ(c->maxPods, 30);
  EXPECT_EQ(c->cgroupDriver, "systemd");
  EXPECT_TRUE(c->cgroupDriverSet);
  EXPECT_EQ(c->cgroupRoot, "/berth");
  EXPECT_THAT(c->clusterDNS, ::testing::ElementsAre("10.96.0.10", "fd00::a"));
  EXPECT_EQ(c->clusterDomain, "cluster.local");
  EXPECT_EQ(c->syncFrequency, absl::Seconds(90));
  EXPECT_EQ(c->fileCheckFrequency, absl::Milliseconds(500));
  EXPECT_FALSE(c->serializeImagePulls);
  EXPECT_EQ(c->podPidsLimit, 4096);
  EXPECT_EQ(c->containerLogMaxSize, "20Mi");
  EXPECT_EQ(c->containerLogMaxFiles, 3);
  EXPECT_EQ(c->healthzPort, 10300);
  EXPECT_EQ(c->healthzBindAddress, "127.0.0.2");
  EXPECT_EQ(c->containerRuntimeEndpoint, "unix:///run/containerd/containerd.sock");
}

TEST(KubeletConfigTest, JsonWorksToo) {
  auto c = ParseKubeletConfig(
      R"({"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","maxPods":7})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->maxPods, 7);
}

TEST(KubeletConfigTest, ErrorsNameTheKeyAndValue) {
  struct Case {
    std::string body, want;
  } cases[] = {
      {"maxPodz: 3\n", "unknown field \"maxPodz\""},
      {"maxPods: -1\n", "maxPods: -1"},
      {"maxPods: many\n", "maxPods: \"many\": expected an integer"},
      {"syncFrequency: soon\n", "syncFrequency: \"soon\""},
      {"fileCheckFrequency: 0s\n", "fileCheckFrequency: \"0s\": must be greater than zero"},
      {"cgroupDriver: cgroupz\n", "cgroupDriver: \"cgroupz\": must be cgroupfs or systemd"},
      {"clusterDNS: [10.0.0.300]\n", "clusterDNS: \"10.0.0.300\": not an IP address"},
      {"serializeImagePulls: maybe\n", "serializeImagePulls: \"maybe\""},
      {"containerLogMaxSize: lots\n", "containerLogMaxSize: \"lots\""},
      {"containerLogMaxFiles: 1\n", "containerLogMaxFiles: 1: must be at least 2"},
      {"healthzPort: 70000\n", "healthzPort: 70000"},
      {"staticPodPath: relative/dir\n", "staticPodPath: \"relative/dir\": must be an absolute path"},
      {"containerRuntimeEndpoint: tcp://x:1\n", "containerRuntimeEndpoint: \"tcp://x:1\""},
      {"podPidsLimit: 0\n", "podPidsLimit: 0"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseKubeletConfig(std::string(kHeader) + c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.want)) << c.body;
  }
}

TEST(KubeletConfigTest, WrongKindOrVersionIsAnError) {
  auto wrong_kind = ParseKubeletConfig("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\n");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_THAT(std::string(wrong_kind.status().message()), HasSubstr("kind: \"Pod\""));
  auto wrong_version = ParseKubeletConfig("apiVersion: v1\nkind: KubeletConfiguration\n");
  ASSERT_FALSE(wrong_version.ok());
  EXPECT_THAT(std::string(wrong_version.status().message()), HasSubstr("apiVersion: \"v1\""));
}

TEST(KubeletConfigTest, FlagsOverrideTheFile) {
  auto c = ParseKubeletConfig(std::string(kHeader) + "maxPods: 30\nstaticPodPath: /a\n");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(ApplyKubeletFlags({{"max-pods", "12"},
                                 {"pod-manifest-path", "/b"},
                                 {"node-name", "Node-1"},
                                 {"file-check-frequency", "2s"},
                                 {"cluster-dns", "10.0.0.10,10.0.0.11"},
                                 {"crash-loop-backoff-base", "1s"}},
                                &*c)
                  .ok());
  EXPECT_EQ(c->maxPods, 12);
  EXPECT_EQ(c->staticPodPath, "/b");
  EXPECT_EQ(c->nodeName, "node-1");
  EXPECT_EQ(c->fileCheckFrequency, absl::Seconds(2));
  EXPECT_THAT(c->clusterDNS, ::testing::ElementsAre("10.0.0.10", "10.0.0.11"));
  EXPECT_EQ(c->crashLoopBackOffBase, absl::Seconds(1));
}

TEST(KubeletConfigTest, BadFlagChangesNothing) {
  KubeletConfig c;
  c.nodeName = "n";
  absl::Status st = ApplyKubeletFlags({{"max-pods", "12"}, {"sync-frequency", "never"}}, &c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("--sync-frequency: \"never\""));
  EXPECT_EQ(c.maxPods, 110);
}

TEST(KubeletConfigTest, NodeNameDefaultsToTheHostname) {
  KubeletConfig c;
  ASSERT_TRUE(ApplyKubeletFlags({}, &c).ok());
  EXPECT_FALSE(c.nodeName.empty());
  EXPECT_TRUE(IsKubeletFlag("pod-manifest-path"));
  EXPECT_FALSE(IsKubeletFlag("listen"));
}

TEST(KubeletFlagsTest, ContainerLogFlags) {
  KubeletConfig c;
  ASSERT_TRUE(ApplyKubeletFlags({{"container-log-max-size", "1Mi"}, {"container-log-max-files", "3"}}, &c).ok());
  EXPECT_EQ(c.containerLogMaxSize, "1Mi");
  EXPECT_EQ(c.containerLogMaxFiles, 3);
  EXPECT_EQ(ContainerLogMaxSizeBytes(c), 1 << 20);
  EXPECT_THAT(std::string(ApplyKubeletFlags({{"container-log-max-files", "1"}}, &c).message()),
              HasSubstr("--container-log-max-files: 1: must be at least 2"));
  EXPECT_FALSE(ApplyKubeletFlags({{"container-log-max-size", "huge"}}, &c).ok());
  EXPECT_EQ(c.containerLogMaxFiles, 3);  // unchanged by the bad flags
}

}  // namespace
}  // namespace berth::agent
