#include "controlplane/scheduler/label_selector.h"

#include <gtest/gtest.h>

namespace berth::scheduler {
namespace {

using nlohmann::json;

TEST(LabelSelectorTest, NullMatchesNothingEmptyMatchesEverything) {
  auto null_selector = LabelSelector::FromJson(json(), "s");
  ASSERT_TRUE(null_selector.ok());
  EXPECT_FALSE(null_selector->Matches({{"a", "b"}}));
  auto empty = LabelSelector::FromJson(json::object(), "s");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Matches({}));
}

TEST(LabelSelectorTest, MatchLabelsAndExpressions) {
  auto s = LabelSelector::FromJson(json::parse(R"({"matchLabels":{"app":"web"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]},
                          {"key":"canary","operator":"DoesNotExist"},
                          {"key":"env","operator":"NotIn","values":["prod"]}]})"),
                                   "s");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->Matches({{"app", "web"}, {"tier", "a"}}));
  EXPECT_TRUE(s->Matches({{"app", "web"}, {"tier", "b"}, {"env", "dev"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "c"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "a"}, {"canary", ""}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "a"}, {"env", "prod"}}));
  EXPECT_FALSE(s->Matches({{"app", "db"}, {"tier", "a"}}));
}

TEST(LabelSelectorTest, BadOperatorNamesTheField) {
  auto s = LabelSelector::FromJson(json::parse(R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})"),
                                   "spec.x.labelSelector");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "spec.x.labelSelector.matchExpressions[0].operator: Unsupported value: \"Gt\"");
  auto no_values = LabelSelector::FromJson(json::parse(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"), "l");
  ASSERT_FALSE(no_values.ok());
  EXPECT_EQ(no_values.status().message(), "l.matchExpressions[0].values: must be specified when `operator` is 'In'");
}

TEST(NodeSelectorTest, TermsAreOredExpressionsAnded) {
  auto s = NodeSelector::FromJson(json::parse(R"({"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"zone","operator":"In","values":["a"]},{"key":"gpus","operator":"Gt","values":["1"]}]},
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["n9"]}]}]})"),
                                  "na");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->Matches("n1", {{"zone", "a"}, {"gpus", "2"}}));
  EXPECT_FALSE(s->Matches("n1", {{"zone", "a"}, {"gpus", "1"}}));
  EXPECT_FALSE(s->Matches("n1", {{"zone", "b"}, {"gpus", "4"}}));
  EXPECT_FALSE(s->Matches("n1", {{"zone", "a"}, {"gpus", "x"}}));
  EXPECT_TRUE(s->Matches("n9", {}));
}

TEST(NodeSelectorTest, EmptyTermMatchesNothingAndBadFieldIsNamed) {
  auto empty_term = NodeSelector::FromJson(json::parse(R"({"nodeSelectorTerms":[{}]})"), "na");
  ASSERT_TRUE(empty_term.ok());
  EXPECT_FALSE(empty_term->Matches("n1", {{"a", "b"}}));
  auto no_terms = NodeSelector::FromJson(json::parse(R"({"nodeSelectorTerms":[]})"), "na");
  ASSERT_FALSE(no_terms.ok());
  EXPECT_EQ(no_terms.status().message(), "na.nodeSelectorTerms: Required value: must have at least one node selector term");
  auto bad_field = NodeSelector::FromJson(
      json::parse(R"({"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.uid","operator":"In","values":["x"]}]}]})"), "na");
  ASSERT_FALSE(bad_field.ok());
  EXPECT_EQ(bad_field.status().message(),
            "na.nodeSelectorTerms[0].matchFields[0].key: Unsupported value: \"metadata.uid\": supported values: \"metadata.name\"");
  auto bad_gt = NodeSelector::FromJson(
      json::parse(R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"Lt","values":["x"]}]}]})"), "na");
  ASSERT_FALSE(bad_gt.ok());
  EXPECT_EQ(bad_gt.status().message(),
            "na.nodeSelectorTerms[0].matchExpressions[0].values: must be a single integer when `operator` is 'Gt' or 'Lt'");
}

}  // namespace
}  // namespace berth::scheduler
