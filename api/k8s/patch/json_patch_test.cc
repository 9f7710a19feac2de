#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;

json Apply(const char* doc, const char* patch) {
  auto r = ApplyJsonPatch(json::parse(doc), json::parse(patch));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : json();
}

std::string Error(const char* doc, const char* patch) {
  auto r = ApplyJsonPatch(json::parse(doc), json::parse(patch));
  EXPECT_FALSE(r.ok());
  return std::string(r.status().message());
}

TEST(JsonPatch, Rfc6902Operations) {
  EXPECT_EQ(Apply(R"({"a": 1})", R"([{"op": "add", "path": "/b", "value": 2}])"), json::parse(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(Apply(R"({"l": [1, 3]})", R"([{"op": "add", "path": "/l/1", "value": 2}])"),
            json::parse(R"({"l": [1, 2, 3]})"));
  EXPECT_EQ(Apply(R"({"l": [1]})", R"([{"op": "add", "path": "/l/-", "value": 2}])"), json::parse(R"({"l": [1, 2]})"));
  EXPECT_EQ(Apply(R"({"a": 1, "b": 2})", R"([{"op": "remove", "path": "/a"}])"), json::parse(R"({"b": 2})"));
  EXPECT_EQ(Apply(R"({"a": 1})", R"([{"op": "replace", "path": "/a", "value": [1]}])"), json::parse(R"({"a": [1]})"));
  EXPECT_EQ(Apply(R"({"a": {"x": 1}, "b": {}})", R"([{"op": "move", "from": "/a/x", "path": "/b/y"}])"),
            json::parse(R"({"a": {}, "b": {"y": 1}})"));
  EXPECT_EQ(Apply(R"({"a": [1, 2]})", R"([{"op": "copy", "from": "/a/0", "path": "/a/-"}])"),
            json::parse(R"({"a": [1, 2, 1]})"));
  EXPECT_EQ(Apply(R"({"a": "x"})", R"([{"op": "test", "path": "/a", "value": "x"},
                                       {"op": "add", "path": "", "value": {"whole": true}}])"),
            json::parse(R"({"whole": true})"));
}

TEST(JsonPatch, Rfc6901EscapesInPointers) {
  json doc = json::parse(R"({"metadata": {"labels": {"app.kubernetes.io/name": "x", "a~b": "y"}}})");
  auto r = ApplyJsonPatch(doc, json::parse(R"([
      {"op": "replace", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "z"},
      {"op": "remove", "path": "/metadata/labels/a~0b"}])"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["metadata"]["labels"], json::parse(R"({"app.kubernetes.io/name": "z"})"));
}

TEST(JsonPatch, ErrorsNameTheOperationAndPathAndChangeNothing) {
  json doc = json::parse(R"({"a": 1})");
  auto r = ApplyJsonPatch(doc, json::parse(R"([{"op": "add", "path": "/b", "value": 2},
                                               {"op": "test", "path": "/a", "value": 2}])"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "json patch operation 1: test /a: value is 1, not 2");
  EXPECT_EQ(doc, json::parse(R"({"a": 1})"));
  EXPECT_EQ(Error(R"({"a": 1})", R"([{"op": "remove", "path": "/nope"}])"),
            "json patch operation 0: remove /nope: member \"nope\" not found");
  EXPECT_EQ(Error(R"({"l": [1]})", R"([{"op": "replace", "path": "/l/5", "value": 1}])"),
            "json patch operation 0: replace /l/5: array index 5 is out of bounds (size 1)");
  EXPECT_EQ(Error(R"({})", R"([{"op": "jump", "path": "/a"}])"), "json patch operation 0: unknown op \"jump\"");
  EXPECT_EQ(Error(R"({})", R"([{"op": "add", "path": "a", "value": 1}])"),
            "json patch operation 0: path \"a\": must be empty or start with '/'");
  EXPECT_EQ(Error(R"({})", R"([{"op": "add", "path": "/a"}])"), "json patch operation 0: add /a: missing \"value\"");
  EXPECT_EQ(Error(R"({"l": [1]})", R"([{"op": "add", "path": "/l/01", "value": 1}])"),
            "json patch operation 0: add /l/01: array index \"01\" is not a number");
  EXPECT_FALSE(ApplyJsonPatch(json::object(), json::object()).ok());
}

}  // namespace
}  // namespace berth::k8s::patch
