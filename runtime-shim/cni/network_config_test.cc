#include "runtime-shim/cni/network_config.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cni {
namespace {

using ::testing::HasSubstr;

TEST(NetworkConfigTest, ParsesConflist) {
  auto list = ParseNetworkConfig(R"({
    "cniVersion": "1.0.0", "name": "podnet",
    "plugins": [
      {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
      {"type": "portmap", "capabilities": {"portMappings": true}}
    ]})", "/etc/cni/net.d/10-pod.conflist");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->cni_version, "1.0.0");
  EXPECT_EQ(list->name, "podnet");
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(list->plugins[0].raw["bridge"], "cni0");
  EXPECT_TRUE(list->plugins[1].capabilities.at("portMappings"));
}

TEST(NetworkConfigTest, SingleConfIsOnePluginList) {
  auto list = ParseNetworkConfig(
      R"({"cniVersion": "0.3.1", "name": "lo", "type": "loopback"})", "99-lo.conf");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->name, "lo");
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "loopback");
  EXPECT_FALSE(list->plugins[0].raw.contains("name"));
  EXPECT_EQ(list->raw["plugins"][0]["type"], "loopback");
}

TEST(NetworkConfigTest, MalformedJsonNamesFile) {
  auto list = ParseNetworkConfig(R"({"cniVersion": "1.0.0", "name": )", "/x/10-bad.conflist");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(list.status().message(), HasSubstr("/x/10-bad.conflist"));
  EXPECT_THAT(list.status().message(), HasSubstr("malformed JSON"));
}

TEST(NetworkConfigTest, MissingFieldsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]})", "name: missing"},
      {R"({"name": "n", "plugins": [{"type": "bridge"}]})", "cniVersion: missing"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"bridge": "cni0"}]})",
       "plugins[0].type: missing"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": 3}]})",
       "plugins[1].type: must be a string"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": []})", "plugins: must not be empty"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": {}})", "plugins: must be an array"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "../sh"}]})", "plugins[0].type"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "b", "capabilities": {"dns": 1}}]})",
       "plugins[0].capabilities.dns: must be a boolean"},
      {R"({"cniVersion": "1.0.0", "name": "n"})", "(plugin).type: missing"},
      {R"([1, 2])", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto list = ParseNetworkConfig(c.json, "f.conflist");
    ASSERT_FALSE(list.ok()) << c.json;
    EXPECT_THAT(list.status().message(), HasSubstr(c.field)) << c.json;
    EXPECT_THAT(list.status().message(), HasSubstr("f.conflist")) << c.json;
  }
}

TEST(NetworkConfigTest, CniVersions) {
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
    auto list = ParseNetworkConfig(
        absl::StrCat(R"({"cniVersion": ")", v, R"(", "name": "n", "plugins": [{"type": "b"}]})"), "f");
    EXPECT_TRUE(list.ok()) << v << ": " << list.status();
  }
  for (const char* v : {"0.2.0", "0.1.0", "2.0.0", "1.0", "abc"}) {
    auto list = ParseNetworkConfig(
        absl::StrCat(R"({"cniVersion": ")", v, R"(", "name": "n", "plugins": [{"type": "b"}]})"), "f");
    ASSERT_FALSE(list.ok()) << v;
    EXPECT_THAT(list.status().message(), HasSubstr("cniVersion: unsupported version"));
    EXPECT_THAT(list.status().message(), HasSubstr(v));
  }
  EXPECT_LT(CompareCniVersions("0.3.1", "0.4.0"), 0);
  EXPECT_GT(CompareCniVersions("1.1.0", "1.0.0"), 0);
  EXPECT_EQ(CompareCniVersions("1.0.0", "1.0.0"), 0);
}

class ConfDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-conf-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  void Write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(AtomicWriteFile(absl::StrCat(dir_, "/", name), data).ok());
  }
  std::string dir_;
};

TEST_F(ConfDirTest, PicksFirstByNameAndReportsReadiness) {
  auto empty = LoadNetworkConfig(dir_);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  absl::Status ready = NetworkReady(dir_);
  EXPECT_EQ(ready.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ready.message(), HasSubstr("no CNI config"));
  EXPECT_EQ(NetworkReady(dir_ + "/missing").code(), absl::StatusCode::kFailedPrecondition);

  Write("README", "not a config");
  Write("20-b.conf", R"({"cniVersion": "1.0.0", "name": "b", "type": "bridge"})");
  Write("30-c.json", R"({"cniVersion": "1.0.0", "name": "c", "type": "bridge"})");
  auto list = LoadNetworkConfig(dir_);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->name, "b");
  EXPECT_EQ(list->source, dir_ + "/20-b.conf");
  EXPECT_TRUE(NetworkReady(dir_).ok());

  Write("10-a.conflist", R"({"cniVersion": "9.9.9", "name": "a", "plugins": [{"type": "x"}]})");
  ready = NetworkReady(dir_);
  EXPECT_EQ(ready.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ready.message(), HasSubstr("10-a.conflist"));
  EXPECT_THAT(ready.message(), HasSubstr("9.9.9"));
}

}  // namespace
}  // namespace berth::cni
