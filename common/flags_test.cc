#include "common/flags.h"

#include "gtest/gtest.h"

namespace berth {
namespace {

struct Parsed {
  std::string root = "/default";
  std::string name;
  bool repair = false;
  std::vector<std::string> positional;
  std::set<std::string> given;
  FlagSet Set(bool with_positional) {
    return FlagSet{.values = {{"root", &root}, {"name", &name}},
                   .switches = {{"repair", &repair}},
                   .positional = with_positional ? &positional : nullptr,
                   .given = &given};
  }
};

TEST(FlagsTest, BothValueFormsSwitchesAndPositionals) {
  Parsed p;
  ASSERT_TRUE(ParseFlags({"pods", "--root=/r", "--name", "web", "--repair", "extra"}, p.Set(true)).ok());
  EXPECT_EQ(p.root, "/r");
  EXPECT_EQ(p.name, "web");
  EXPECT_TRUE(p.repair);
  EXPECT_EQ(p.positional, (std::vector<std::string>{"pods", "extra"}));
  EXPECT_EQ(p.given, (std::set<std::string>{"root", "name", "repair"}));
}

TEST(FlagsTest, AnEmptyValueAndAValueThatLooksLikeAFlag) {
  Parsed p;
  ASSERT_TRUE(ParseFlags({"--root=", "--name", "--repair"}, p.Set(false)).ok());
  EXPECT_EQ(p.root, "");
  EXPECT_EQ(p.name, "--repair");
  EXPECT_FALSE(p.repair);
}

TEST(FlagsTest, ErrorsNameTheArgument) {
  Parsed p;
  EXPECT_EQ(ParseFlags({"--bogus=1"}, p.Set(false)).message(), "unknown flag --bogus");
  EXPECT_EQ(ParseFlags({"--name"}, p.Set(false)).message(), "flag --name needs a value");
  EXPECT_EQ(ParseFlags({"--repair=yes"}, p.Set(false)).message(), "flag --repair takes no value");
  EXPECT_EQ(ParseFlags({"stray"}, p.Set(false)).message(), "unexpected argument \"stray\"");
  EXPECT_EQ(p.root, "/default");
}

TEST(FlagsTest, ArgvSkipsTheProgramName) {
  Parsed p;
  std::string a0 = "prog", a1 = "--root", a2 = "/x";
  char* argv[] = {a0.data(), a1.data(), a2.data()};
  ASSERT_TRUE(ParseFlags(3, argv, p.Set(false)).ok());
  EXPECT_EQ(p.root, "/x");
}

}  // namespace
}  // namespace berth
