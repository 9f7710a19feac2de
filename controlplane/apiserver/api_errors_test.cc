#include "controlplane/apiserver/api_errors.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

TEST(ApiErrorsTest, StatusShapes) {
  ErrorTarget pod{"", "pods", "Pod", "web"};
  auto nf = NotFoundError(pod).ToStatus();
  EXPECT_EQ(nf["kind"], "Status");
  EXPECT_EQ(nf["status"], "Failure");
  EXPECT_EQ(nf["code"], 404);
  EXPECT_EQ(nf["reason"], "NotFound");
  EXPECT_EQ(nf["message"], "pods \"web\" not found");
  EXPECT_EQ(nf["details"]["name"], "web");
  EXPECT_EQ(nf["details"]["kind"], "pods");

  ErrorTarget deploy{"apps", "deployments", "Deployment", "d"};
  auto conflict = ConflictError(deploy).ToStatus();
  EXPECT_EQ(conflict["code"], 409);
  EXPECT_EQ(conflict["reason"], "Conflict");
  EXPECT_EQ(conflict["message"],
            "Operation cannot be fulfilled on deployments.apps \"d\": the object has been modified; please "
            "apply your changes to the latest version and try again");
  EXPECT_EQ(conflict["details"]["group"], "apps");

  auto invalid = InvalidError(pod, {{"FieldValueRequired", "spec.containers", "Required value"},
                                    {"FieldValueInvalid", "metadata.name", "Invalid value: \"A\""}})
                     .ToStatus();
  EXPECT_EQ(invalid["code"], 422);
  EXPECT_EQ(invalid["reason"], "Invalid");
  EXPECT_EQ(invalid["message"],
            "Pod \"web\" is invalid: [spec.containers: Required value, metadata.name: Invalid value: \"A\"]");
  ASSERT_EQ(invalid["details"]["causes"].size(), 2u);
  EXPECT_EQ(invalid["details"]["causes"][0]["field"], "spec.containers");
  EXPECT_EQ(invalid["details"]["causes"][0]["reason"], "FieldValueRequired");
  EXPECT_EQ(invalid["details"]["kind"], "Pod");

  auto forbidden = ForbiddenError("bob", "list", ErrorTarget{"", "pods", "", ""}, "default").ToStatus();
  EXPECT_EQ(forbidden["code"], 403);
  EXPECT_EQ(forbidden["message"],
            "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"");
  EXPECT_EQ(UnauthorizedError().ToStatus()["code"], 401);
  EXPECT_EQ(GoneError("too old").ToStatus()["reason"], "Expired");
  EXPECT_EQ(EntityTooLargeError(10).ToStatus()["code"], 413);
  EXPECT_EQ(UnsupportedMediaTypeError("text/plain").ToStatus()["code"], 415);
  EXPECT_EQ(MethodNotAllowedError("POST", "/x").ToStatus()["code"], 405);
}

TEST(ApiErrorsTest, StoreCodesMapped) {
  ErrorTarget t{"", "configmaps", "ConfigMap", "c"};
  EXPECT_EQ(FromStoreStatus(absl::NotFoundError("x"), t).code, 404);
  EXPECT_EQ(FromStoreStatus(absl::AlreadyExistsError("x"), t).code, 409);
  EXPECT_EQ(FromStoreStatus(absl::AlreadyExistsError("x"), t).reason, "AlreadyExists");
  EXPECT_EQ(FromStoreStatus(absl::AbortedError("conflict"), t).reason, "Conflict");
  EXPECT_EQ(FromStoreStatus(absl::OutOfRangeError("compacted"), t).code, 410);
  EXPECT_EQ(FromStoreStatus(absl::InvalidArgumentError("bad"), t).code, 400);
  EXPECT_EQ(FromStoreStatus(absl::UnavailableError("down"), t).code, 503);
}

}  // namespace
}  // namespace berth::apiserver
