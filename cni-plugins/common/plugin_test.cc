#include "cni-plugins/common/plugin.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cniplugin {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<PluginArgs> Parse(std::map<std::string, std::string> env, const std::string& in) {
  return ParseArgs(
      [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      in);
}

std::map<std::string, std::string> AddEnv() {
  return {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/proc/self/ns/net"},
          {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/opt/cni/bin"}};
}

TEST(ParseArgs, Add) {
  auto args = Parse(AddEnv(), R"({"cniVersion": "1.0.0", "name": "n", "type": "x"})");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->command, "ADD");
  EXPECT_EQ(args->container_id, "c1");
  EXPECT_EQ(args->cni_version, "1.0.0");
}

TEST(ParseArgs, EnvErrorsAreCode4) {
  auto env = AddEnv();
  env.erase("CNI_CONTAINERID");
  auto args = Parse(env, R"({"cniVersion": "1.0.0", "name": "n"})");
  EXPECT_EQ(CniCode(args.status()), kInvalidEnv);
  EXPECT_EQ(CniCode(Parse({}, "").status()), kInvalidEnv);
  EXPECT_EQ(CniCode(Parse({{"CNI_COMMAND", "FOO"}}, "").status()), kInvalidEnv);
  env = AddEnv();
  env.erase("CNI_NETNS");
  EXPECT_EQ(CniCode(Parse(env, R"({"cniVersion": "1.0.0", "name": "n"})").status()), kInvalidEnv);
  auto bad_id = AddEnv();
  bad_id["CNI_CONTAINERID"] = "a\nb";
  EXPECT_EQ(CniCode(Parse(bad_id, R"({"cniVersion": "1.0.0", "name": "n"})").status()), kInvalidEnv);
  auto bad_if = AddEnv();
  bad_if["CNI_IFNAME"] = "eth0/../x";
  EXPECT_EQ(CniCode(Parse(bad_if, R"({"cniVersion": "1.0.0", "name": "n"})").status()), kInvalidEnv);
  bad_if["CNI_IFNAME"] = "abcdefghijklmnop";
  EXPECT_EQ(CniCode(Parse(bad_if, R"({"cniVersion": "1.0.0", "name": "n"})").status()), kInvalidEnv);
  env["CNI_COMMAND"] = "DEL";  // DEL tolerates no netns
  EXPECT_TRUE(Parse(env, R"({"cniVersion": "1.0.0", "name": "n"})").ok());
}

TEST(ParseArgs, DecodeAndConfigErrors) {
  EXPECT_EQ(CniCode(Parse(AddEnv(), "{nope").status()), kDecodeFailure);
  EXPECT_EQ(CniCode(Parse(AddEnv(), R"({"name": "n"})").status()), kInvalidConfig);
  EXPECT_EQ(CniCode(Parse(AddEnv(), R"({"cniVersion": "1.0.0"})").status()), kInvalidConfig);
  auto bad = Parse(AddEnv(), R"({"cniVersion": "9.9.9", "name": "n"})");
  EXPECT_EQ(CniCode(bad.status()), kIncompatibleVersion);
  EXPECT_THAT(bad.status().message(), HasSubstr("9.9.9"));
}

TEST(ParseArgs, VersionNeedsNoConfig) {
  auto args = Parse({{"CNI_COMMAND", "VERSION"}}, "");
  ASSERT_TRUE(args.ok());
  auto v = VersionJson(args->cni_version);
  EXPECT_EQ(v["supportedVersions"].size(), 5u);
}

TEST(ErrorJson, Shape) {
  auto j = ErrorJson(CniError(kTryAgainLater, "busy", "lock held"), "1.0.0");
  EXPECT_EQ(j["code"], 11);
  EXPECT_EQ(j["msg"], "busy");
  EXPECT_EQ(j["details"], "lock held");
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  EXPECT_EQ(ErrorJson(absl::InternalError("x"), "")["code"], 999);
}

TEST(VersionLess, Orders) {
  EXPECT_TRUE(VersionLess("0.3.1", "0.4.0"));
  EXPECT_FALSE(VersionLess("1.0.0", "0.4.0"));
  EXPECT_FALSE(VersionLess("0.4.0", "0.4.0"));
}

}  // namespace
}  // namespace berth::cniplugin
