#include "agent/pod/expansion.h"

#include <map>

#include "gtest/gtest.h"

namespace berth::agent {
namespace {

std::string Expand(const std::string& in) {
  std::map<std::string, std::string> vars = {{"A", "alpha"}, {"B", "$(A)"}, {"EMPTY", ""}};
  return ExpandVars(in, [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ExpandVarsTest, KubernetesRules) {
  EXPECT_EQ(Expand("$(A)"), "alpha");
  EXPECT_EQ(Expand("x-$(A)-y"), "x-alpha-y");
  EXPECT_EQ(Expand("$(MISSING)"), "$(MISSING)");
  EXPECT_EQ(Expand("$$(A)"), "$(A)");
  EXPECT_EQ(Expand("$$"), "$");
  EXPECT_EQ(Expand("$(EMPTY)z"), "z");
  EXPECT_EQ(Expand("$(B)"), "$(A)") << "values are not expanded twice";
  EXPECT_EQ(Expand("$(A"), "$(A");
  EXPECT_EQ(Expand("cost $5"), "cost $5");
  EXPECT_EQ(Expand("end$"), "end$");
}

}  // namespace
}  // namespace berth::agent
