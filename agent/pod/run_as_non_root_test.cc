#include "agent/pod/run_as_non_root.h"

#include "agent/pod/test_pods.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::HasSubstr;
using testing::MakePod;

k8s::Pod PodWith(const std::string& pod_sc, const std::string& container_sc) {
  return MakePod(R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns, uid: u1}
spec:
  securityContext: )" + pod_sc + R"(
  containers:
  - name: app
    image: busybox
    securityContext: )" + container_sc + "\n");
}

cri::Image ImageUid(int64_t uid) {
  cri::Image image;
  image.mutable_uid()->set_value(uid);
  return image;
}

TEST(RunAsNonRoot, NotAskedIsAlwaysFine) {
  auto pod = PodWith("{}", "{}");
  EXPECT_TRUE(VerifyRunAsNonRoot(pod, pod.spec.containers[0], ImageUid(0)).ok());
}

TEST(RunAsNonRoot, ImageRootIsRefusedWithTheKubeletsMessage) {
  auto pod = PodWith("{runAsNonRoot: true}", "{}");
  absl::Status st = VerifyRunAsNonRoot(pod, pod.spec.containers[0], ImageUid(0));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("container has runAsNonRoot and image will run as root (pod: \"p_ns(u1)\", container: app)"));
  // No user in the image at all is root too.
  EXPECT_FALSE(VerifyRunAsNonRoot(pod, pod.spec.containers[0], cri::Image()).ok());
}

TEST(RunAsNonRoot, RunAsUserDecidesBeforeTheImage) {
  auto ok = PodWith("{runAsNonRoot: true, runAsUser: 1000}", "{}");
  EXPECT_TRUE(VerifyRunAsNonRoot(ok, ok.spec.containers[0], ImageUid(0)).ok());
  auto root = PodWith("{runAsNonRoot: true}", "{runAsUser: 0}");
  absl::Status st = VerifyRunAsNonRoot(root, root.spec.containers[0], ImageUid(1000));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("container's runAsUser breaks non-root policy"));
}

TEST(RunAsNonRoot, ContainerOverridesPodAndNamedUsersCannotBeVerified) {
  auto off = PodWith("{runAsNonRoot: true}", "{runAsNonRoot: false}");
  EXPECT_TRUE(VerifyRunAsNonRoot(off, off.spec.containers[0], ImageUid(0)).ok());
  auto on = PodWith("{}", "{runAsNonRoot: true}");
  EXPECT_TRUE(VerifyRunAsNonRoot(on, on.spec.containers[0], ImageUid(65534)).ok());
  cri::Image named;
  named.set_username("nobody");
  absl::Status st = VerifyRunAsNonRoot(on, on.spec.containers[0], named);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("image has non-numeric user (nobody), cannot verify user is non-root"));
}

}  // namespace
}  // namespace berth::agent
