#include "controlplane/apiserver/protobuf_body.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::apiserver {
namespace {

// Minimal protobuf writer for the test: length-delimited and varint fields.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Bytes(int field, const std::string& data) { return Varint(field << 3 | 2) + Varint(data.size()) + data; }
std::string Int(int field, uint64_t v) { return Varint(field << 3) + Varint(v); }
std::string MapEntry(int field, const std::string& k, const std::string& v) {
  return Bytes(field, Bytes(1, k) + Bytes(2, v));
}
std::string Envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + Bytes(1, Bytes(1, api_version) + Bytes(2, kind)) + Bytes(2, raw) +
         Bytes(4, "application/vnd.kubernetes.protobuf");
}

TEST(ProtobufBodyTest, ConfigMapAsKubectlSendsIt) {
  std::string meta = Bytes(1, "c1") + Bytes(3, "default") + MapEntry(11, "app", "web") + Bytes(14, "f1");
  std::string raw = Bytes(1, meta) + MapEntry(2, "a", "1") + MapEntry(2, "b", "two") + Int(4, 1);
  auto obj = DecodeProtobufBody(Envelope("v1", "ConfigMap", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["apiVersion"], "v1");
  EXPECT_EQ((*obj)["kind"], "ConfigMap");
  EXPECT_EQ((*obj)["metadata"]["name"], "c1");
  EXPECT_EQ((*obj)["metadata"]["namespace"], "default");
  EXPECT_EQ((*obj)["metadata"]["labels"]["app"], "web");
  EXPECT_EQ((*obj)["metadata"]["finalizers"][0], "f1");
  EXPECT_EQ((*obj)["data"]["a"], "1");
  EXPECT_EQ((*obj)["data"]["b"], "two");
  EXPECT_EQ((*obj)["immutable"], true);
}

TEST(ProtobufBodyTest, SecretBytesBecomeBase64AndReviewsDecode) {
  std::string raw = Bytes(1, Bytes(1, "s")) + MapEntry(2, "password", "hunter2") + Bytes(3, "Opaque");
  auto secret = DecodeProtobufBody(Envelope("v1", "Secret", raw));
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ((*secret)["data"]["password"], "aHVudGVyMg==");
  EXPECT_EQ((*secret)["type"], "Opaque");
  std::string attrs = Bytes(1, "default") + Bytes(2, "create") + Bytes(3, "apps") + Bytes(5, "deployments");
  auto review = DecodeProtobufBody(
      Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", Bytes(2, Bytes(1, attrs))));
  ASSERT_TRUE(review.ok()) << review.status();
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["verb"], "create");
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["resource"], "deployments");
}

TEST(ProtobufBodyTest, BadInputNamed) {
  EXPECT_EQ(DecodeProtobufBody("{}").status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown_kind = DecodeProtobufBody(Envelope("apps/v1", "Deployment", ""));
  EXPECT_EQ(unknown_kind.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(unknown_kind.status().message().find("Deployment"), std::string::npos);
  std::string truncated = Envelope("v1", "ConfigMap", Bytes(1, Bytes(1, "c1")));
  truncated.resize(truncated.size() - 3);
  EXPECT_FALSE(DecodeProtobufBody(truncated).ok());
}

}  // namespace
}  // namespace berth::apiserver
