#include "api/k8s/static_pod.h"

#include <gtest/gtest.h>

#include "api/k8s/codec.h"

namespace berth::k8s {
namespace {

constexpr char kManifest[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.5.16-0
    command: [etcd, --data-dir=/var/lib/etcd]
)";

Pod Load(const std::string& text) {
  auto pods = DecodePods(text);
  EXPECT_TRUE(pods.ok()) << pods.status();
  return (*pods)[0];
}

TEST(StaticPodTest, UidIsStableHex) {
  Pod a = Load(kManifest);
  std::string uid = StaticPodUid(a, "node-1", "/etc/kubernetes/manifests/etcd.yaml");
  EXPECT_EQ(uid.size(), 32u);
  EXPECT_EQ(uid.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Same content, decoded again (and through JSON): same UID.
  EXPECT_EQ(StaticPodUid(Load(kManifest), "node-1", "/etc/kubernetes/manifests/etcd.yaml"), uid);
  auto via_json = DecodePodJson(EncodePodJson(a));
  ASSERT_TRUE(via_json.ok());
  EXPECT_EQ(StaticPodUid(*via_json, "node-1", "/etc/kubernetes/manifests/etcd.yaml"), uid);
  // A uid already in the object does not feed the hash.
  a.metadata.uid = "something";
  EXPECT_EQ(StaticPodUid(a, "node-1", "/etc/kubernetes/manifests/etcd.yaml"), uid);
}

TEST(StaticPodTest, UidChangesWithContentNodeAndSource) {
  Pod a = Load(kManifest);
  const std::string src = "/etc/kubernetes/manifests/etcd.yaml";
  std::string uid = StaticPodUid(a, "node-1", src);
  Pod b = a;
  b.spec.containers[0].image = "registry.k8s.io/etcd:3.5.17-0";
  EXPECT_NE(StaticPodUid(b, "node-1", src), uid);
  Pod c = a;
  c.metadata.labels["x"] = "y";
  EXPECT_NE(StaticPodUid(c, "node-1", src), uid);
  EXPECT_NE(StaticPodUid(a, "node-2", src), uid);
  EXPECT_NE(StaticPodUid(a, "node-1", "/etc/kubernetes/manifests/other.yaml"), uid);
}

TEST(StaticPodTest, Name) {
  EXPECT_EQ(StaticPodName("etcd", "node-1"), "etcd-node-1");
  EXPECT_EQ(StaticPodName("kube-apiserver", "Worker-A"), "kube-apiserver-worker-a");
}

}  // namespace
}  // namespace berth::k8s
