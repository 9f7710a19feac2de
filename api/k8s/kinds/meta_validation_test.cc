#include "api/k8s/kinds/meta_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/field_error_text.h"

namespace berth::k8s::kinds {
namespace {

using ::testing::IsEmpty;

std::vector<std::string> Fields(const std::vector<FieldError>& errs) { return FieldErrorTexts(errs); }

TEST(ValidateMetadata, NameRequiredUnlessGenerateName) {
  auto errs = ValidateMetadata({{"metadata", {{"namespace", "default"}}}}, nullptr,
                               NameRule::kDNS1123Subdomain, true);
  EXPECT_THAT(Fields(errs), ::testing::ElementsAre(
                                "metadata.name: Required value: name or generateName is required"));
  EXPECT_EQ(errs[0].type, "FieldValueRequired");
}

TEST(ValidateMetadata, NamespaceRequiredOrForbidden) {
  EXPECT_THAT(Fields(ValidateMetadata({{"metadata", {{"name", "a"}}}}, nullptr,
                                      NameRule::kDNS1123Subdomain, true)),
              ::testing::ElementsAre("metadata.namespace: Required value"));
  EXPECT_THAT(Fields(ValidateMetadata({{"metadata", {{"name", "a"}, {"namespace", "x"}}}}, nullptr,
                                      NameRule::kDNS1123Subdomain, false)),
              ::testing::ElementsAre("metadata.namespace: Forbidden: not allowed on this type"));
}

TEST(ValidateMetadata, KubeMessagesForBadNames) {
  auto errs = ValidateMetadata({{"metadata", {{"name", "Bad_Name"}, {"namespace", "default"}}}}, nullptr,
                               NameRule::kDNS1123Subdomain, true);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].message,
            "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  EXPECT_EQ(IsDNS1035Label("web-1"), std::vector<std::string>{});
  EXPECT_EQ(IsDNS1035Label("1web").size(), 1u);
  EXPECT_EQ(IsDNS1035Label(std::string(64, 'a')).size(), 1u);
  // A generateName prefix may end with '-'.
  EXPECT_THAT(ValidateMetadata({{"metadata", {{"generateName", "web-"}, {"namespace", "d"}}}},
                               nullptr, NameRule::kDNS1123Subdomain, true),
              IsEmpty());
}

TEST(ValidateMetadata, LabelsAnnotationsOwnersFinalizers) {
  nlohmann::json obj = {{"metadata",
                         {{"name", "a"},
                          {"labels", {{"app", "web"}, {"bad key!", "v"}, {"k", "bad value!"}}},
                          {"annotations", {{"ok.io/x", "anything at all"}, {"/x", "v"}}},
                          {"ownerReferences", {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "p"}}}},
                          {"finalizers", {"example.com/ok", "not ok"}}}}};
  auto f = Fields(ValidateMetadata(obj, nullptr, NameRule::kDNS1123Subdomain, false));
  ASSERT_EQ(f.size(), 5u) << ::testing::PrintToString(f);
  EXPECT_THAT(f[0], ::testing::StartsWith("metadata.labels: Invalid value: \"bad key!\": name part must"));
  EXPECT_THAT(f[1], ::testing::StartsWith("metadata.labels: Invalid value: \"bad value!\": a valid label"));
  EXPECT_THAT(f[2], ::testing::StartsWith("metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty"));
  EXPECT_EQ(f[3], "metadata.ownerReferences[0].uid: Invalid value: \"\": uid must not be empty");
  EXPECT_THAT(f[4], ::testing::StartsWith("metadata.finalizers[1]: Invalid value: \"not ok\""));
}

TEST(ValidateMetadata, UpdateKeepsIdentityImmutable) {
  nlohmann::json old = {{"metadata", {{"name", "a"}, {"namespace", "d"}, {"uid", "1"}}}};
  nlohmann::json now = {{"metadata", {{"name", "a"}, {"namespace", "d"}, {"uid", "2"}}}};
  EXPECT_THAT(Fields(ValidateMetadata(now, &old, NameRule::kDNS1123Subdomain, true)),
              ::testing::ElementsAre("metadata.uid: Invalid value: \"2\": field is immutable"));
  EXPECT_THAT(ValidateMetadata(old, &old, NameRule::kDNS1123Subdomain, true), IsEmpty());
}

}  // namespace
}  // namespace berth::k8s::kinds
