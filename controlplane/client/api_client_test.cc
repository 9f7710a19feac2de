#include "controlplane/client/api_client.h"

#include "gtest/gtest.h"

namespace berth::client {
namespace {

TEST(ResourceRefTest, PathsOfCoreGroupAndNamedGroupsNamespacedAndNot) {
  EXPECT_EQ(resources::kPods.CollectionPath("default"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(resources::kPods.CollectionPath(""), "/api/v1/pods");
  EXPECT_EQ(resources::kPods.ObjectPath("ns", "p", "binding"), "/api/v1/namespaces/ns/pods/p/binding");
  EXPECT_EQ(resources::kNodes.ObjectPath("ignored", "n1", "status"), "/api/v1/nodes/n1/status");
  EXPECT_EQ(resources::kDeployments.CollectionPath("a"), "/apis/apps/v1/namespaces/a/deployments");
  EXPECT_EQ(resources::kLeases.ObjectPath("kube-node-lease", "n1"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1");
}

TEST(StatusFromApiTest, ReasonsAndCodesMapOntoStatusCodes) {
  EXPECT_EQ(StatusFromApi(404, "NotFound", "pods \"x\" not found").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusFromApi(409, "AlreadyExists", "").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromApi(409, "Conflict", "").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromApi(422, "Invalid", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromApi(403, "Forbidden", "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromApi(401, "", "").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromApi(410, "Expired", "").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(StatusFromApi(429, "TooManyRequests", "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromApi(500, "InternalError", "boom").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusFromApi(500, "InternalError", "boom").message(), "boom");
  EXPECT_EQ(StatusFromApi(404, "", "").message(), "HTTP 404 ");
}

TEST(StatusFromResponseTest, AStatusBodyGivesItsReasonAndMessageOtherTextItsCode) {
  auto conflict = StatusFromResponse(
      409, R"({"kind":"Status","code":409,"reason":"AlreadyExists","message":"pods \"a\" already exists"})");
  EXPECT_EQ(conflict.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conflict.message(), "pods \"a\" already exists");
  auto plain = StatusFromResponse(404, "  no such page\n");
  EXPECT_EQ(plain.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(plain.message(), "no such page");
  EXPECT_STREQ(PatchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
}

}  // namespace
}  // namespace berth::client
