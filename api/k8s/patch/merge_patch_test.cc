#include <gtest/gtest.h>

#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;

// The examples of RFC 7386 appendix A, in the same spirit.
TEST(MergePatch, Rfc7386Cases) {
  struct Case {
    const char* doc;
    const char* patch;
    const char* want;
  } cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    auto r = ApplyMergePatch(json::parse(c.doc), json::parse(c.patch));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, json::parse(c.want)) << c.doc << " + " << c.patch;
  }
}

TEST(MergePatch, ReplacesListsLikeKubectlPatchTypeMerge) {
  json d = json::parse(R"({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}})");
  auto r = ApplyMergePatch(d, json::parse(R"({"spec": {"containers": [{"name": "a", "image": "z"}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["spec"]["containers"].size(), 1u);
  EXPECT_FALSE(ApplyMergePatch(d, json::array()).ok());
}

}  // namespace
}  // namespace berth::k8s::patch
