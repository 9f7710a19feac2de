#include "controlplane/apiserver/selectors.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

bool Match(const std::string& selector, const std::map<std::string, std::string>& labels) {
  auto s = LabelSelector::Parse(selector);
  EXPECT_TRUE(s.ok()) << selector << ": " << s.status();
  return s.ok() && s->Matches(labels);
}

TEST(LabelSelectorTest, Operators) {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}, {"n", "5"}};
  EXPECT_TRUE(Match("", labels));
  EXPECT_TRUE(Match("app=web", labels));
  EXPECT_TRUE(Match("app==web", labels));
  EXPECT_FALSE(Match("app=db", labels));
  EXPECT_TRUE(Match("app!=db", labels));
  EXPECT_FALSE(Match("app!=web", labels));
  EXPECT_TRUE(Match("missing!=x", labels));
  EXPECT_TRUE(Match("app in (db, web)", labels));
  EXPECT_FALSE(Match("app in (db)", labels));
  EXPECT_TRUE(Match("app notin (db)", labels));
  EXPECT_FALSE(Match("app notin (db,web)", labels));
  EXPECT_TRUE(Match("missing notin (db)", labels));
  EXPECT_TRUE(Match("tier", labels));
  EXPECT_FALSE(Match("missing", labels));
  EXPECT_TRUE(Match("!missing", labels));
  EXPECT_FALSE(Match("!app", labels));
  EXPECT_TRUE(Match("app=web, tier in (front,back),!missing", labels));
  EXPECT_FALSE(Match("app=web,tier=back", labels));
  EXPECT_TRUE(Match("n>4", labels));
  EXPECT_FALSE(Match("n<4", labels));
  EXPECT_TRUE(Match("example.com/role=x", {{"example.com/role", "x"}}));
}

TEST(LabelSelectorTest, BadInputNamed) {
  for (const char* bad : {"app in ()", "app in (a", "a b=c", "=x", "app=web,", "app==a b", "n>x"}) {
    auto s = LabelSelector::Parse(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(bad), std::string::npos) << s.status();
  }
}

TEST(FieldSelectorTest, ParseAndMatch) {
  auto s = FieldSelector::Parse("metadata.name=web,status.phase!=Failed,spec.nodeName==n1");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->requirements().size(), 3u);
  std::map<std::string, std::string> values = {
      {"metadata.name", "web"}, {"status.phase", "Running"}, {"spec.nodeName", "n1"}};
  auto value_of = [&](const std::string& f) -> std::optional<std::string> {
    auto it = values.find(f);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_TRUE(s->Matches(value_of));
  values["status.phase"] = "Failed";
  EXPECT_FALSE(s->Matches(value_of));
  EXPECT_EQ(s->Exact("metadata.name").value_or(""), "web");
  EXPECT_FALSE(s->Exact("status.phase").has_value());
  EXPECT_FALSE(FieldSelector::Parse("metadata.name").ok());
  EXPECT_FALSE(FieldSelector::Parse("=x").ok());
  EXPECT_TRUE(FieldSelector::Parse("")->Empty());
}

}  // namespace
}  // namespace berth::apiserver
