// CRI PullImage from a real registry (Debian's docker-registry on loopback,
// filled by the test through the push API), then a container from the
// pulled image.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"
#include "grpcpp/grpcpp.h"
#include "runtime-shim/image/registry/testing/local_registry.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;
namespace regtest = image::registry::testing;

TEST_F(CriE2eTest, PullsFromARegistryAndRunsThePulledImage) {
  if (IsContainerd()) GTEST_SKIP() << "containerd's registry hosts are configured by its own script";
  if (!PathExists(regtest::kRegistryBinary)) GTEST_SKIP() << "docker-registry is not installed";
  const std::string work = runtime_->root() + "/registry";
  E2E_ASSERT_OK(MkdirAll(work + "/busybox"));
  E2E_ASSERT_OK(RunCommand({"/bin/bash", SourceDir() + "/hack/build-busybox-image.sh", work}, absl::Seconds(120)));
  E2E_ASSERT_OK(RunCommand({"/bin/tar", "-C", work + "/busybox", "-xf", work + "/busybox.tar"}, absl::Seconds(60)));
  E2E_ASSERT_OK_AND_ASSIGN(regtest::LocalRegistry registry, regtest::StartLocalRegistry(work, "plain"));
  struct Stop {
    regtest::LocalRegistry& registry;
    ~Stop() { regtest::StopLocalRegistry(registry); }
  } stop{registry};
  E2E_ASSERT_OK_AND_ASSIGN(std::string manifest_digest,
                           regtest::PushOciLayout(registry.host, work + "/busybox", "e2e/busybox", "1.0"));

  runtime_->set_extra_flags({"--insecure-registry", registry.host});
  E2E_ASSERT_OK(runtime_->KillMainProcess());
  E2E_ASSERT_OK(runtime_->Restart());

  const std::string ref = registry.host + "/e2e/busybox:1.0";
  v1::PullImageRequest req;
  req.mutable_image()->set_image(ref);
  v1::PullImageResponse resp;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  grpc::Status pulled = client_->images().PullImage(&context, req, &resp);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  EXPECT_TRUE(absl::StartsWith(resp.image_ref(), "sha256:")) << resp.image_ref();

  E2E_ASSERT_OK_AND_ASSIGN(v1::ImageStatusResponse status, client_->ImageStatus(ref));
  ASSERT_TRUE(status.has_image());
  EXPECT_EQ(status.image().id(), resp.image_ref());
  bool digest_found = false;
  for (const auto& d : status.image().repo_digests()) {
    digest_found |= d == registry.host + "/e2e/busybox@" + manifest_digest;
  }
  EXPECT_TRUE(digest_found) << status.image().DebugString();

  v1::PodSandboxConfig pod = PodConfig("pulled");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(std::string id,
                           CreateAndStart(pod_id, pod, MinimalContainerConfig("c", ref, {"sh", "-c", "exit 5"})));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatus exited,
                           client_->WaitForContainerState(id, v1::CONTAINER_EXITED, absl::Seconds(30)));
  EXPECT_EQ(exited.exit_code(), 5);
}

}  // namespace
}  // namespace berth::e2e
