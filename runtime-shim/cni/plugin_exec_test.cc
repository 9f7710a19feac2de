#include "runtime-shim/cni/plugin_exec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/cni_client.h"

namespace berth::cni {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PluginEnvTest, BuildsCniVariables) {
  PluginEnv env{"ADD", "abc123", "/run/berth/sandboxes/abc123/ns/net", "eth0",
                {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "web"}}, {"/opt/cni/bin", "/usr/lib/cni"}};
  auto out = BuildPluginEnv(env, {"PATH=/usr/sbin:/usr/bin", "CNI_COMMAND=VERSION", "HOME=/root"});
  EXPECT_THAT(out, Contains("PATH=/usr/sbin:/usr/bin"));
  EXPECT_THAT(out, Contains("HOME=/root"));
  EXPECT_THAT(out, Not(Contains("CNI_COMMAND=VERSION")));
  EXPECT_THAT(out, Contains("CNI_COMMAND=ADD"));
  EXPECT_THAT(out, Contains("CNI_CONTAINERID=abc123"));
  EXPECT_THAT(out, Contains("CNI_NETNS=/run/berth/sandboxes/abc123/ns/net"));
  EXPECT_THAT(out, Contains("CNI_IFNAME=eth0"));
  EXPECT_THAT(out, Contains("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web"));
  EXPECT_THAT(out, Contains("CNI_PATH=/opt/cni/bin:/usr/lib/cni"));

  PluginEnv del{"DEL", "abc123", "", "eth0", {}, {"/opt/cni/bin"}};
  auto out2 = BuildPluginEnv(del, {});
  for (const auto& e : out2) EXPECT_FALSE(absl::StartsWith(e, "CNI_NETNS=")) << e;
}

TEST(PluginStdinTest, InjectsNameVersionPrevResultAndCapabilities) {
  auto list = ParseNetworkConfig(R"({
    "cniVersion": "1.0.0", "name": "podnet",
    "plugins": [
      {"type": "bridge", "bridge": "cni0", "runtimeConfig": {"keep": 1}},
      {"type": "portmap", "capabilities": {"portMappings": true, "bandwidth": false}}
    ]})", "f");
  ASSERT_TRUE(list.ok());
  AttachmentRequest request;
  request.container_id = "c1";
  request.port_mappings = {{80, 8080, "tcp", ""}, {53, 5353, "udp", "127.0.0.1"}};
  request.dns.servers = {"10.96.0.10"};
  request.bandwidth = Bandwidth{1000, 2000, 3000, 4000};
  nlohmann::json caps = CapabilityArgsFor(request);
  EXPECT_EQ(caps["portMappings"][1]["hostIP"], "127.0.0.1");
  EXPECT_EQ(caps["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(caps["portMappings"][0]["containerPort"], 80);
  EXPECT_FALSE(caps["portMappings"][0].contains("hostIP"));
  EXPECT_EQ(caps["dns"]["servers"][0], "10.96.0.10");
  EXPECT_EQ(caps["bandwidth"]["egressBurst"], 4000);

  nlohmann::json first = BuildPluginStdin(*list, list->plugins[0], nlohmann::json(), caps);
  EXPECT_EQ(first["name"], "podnet");
  EXPECT_EQ(first["cniVersion"], "1.0.0");
  EXPECT_EQ(first["bridge"], "cni0");
  EXPECT_FALSE(first.contains("prevResult"));
  EXPECT_EQ(first["runtimeConfig"], nlohmann::json({{"keep", 1}}));  // declares no capability

  nlohmann::json prev = {{"cniVersion", "1.0.0"}, {"ips", nlohmann::json::array()}};
  nlohmann::json second = BuildPluginStdin(*list, list->plugins[1], prev, caps);
  EXPECT_EQ(second["prevResult"], prev);
  EXPECT_EQ(second["runtimeConfig"].size(), 1u);  // bandwidth: false, dns: not declared
  EXPECT_EQ(second["runtimeConfig"]["portMappings"].size(), 2u);

  AttachmentRequest bare;
  EXPECT_TRUE(CapabilityArgsFor(bare).empty());
  auto args = CniArgsFor(AttachmentRequest{"sb1", "/ns", "eth0", "default", "web", "", "uid-1"});
  EXPECT_THAT(args, Contains(std::pair<std::string, std::string>("K8S_POD_INFRA_CONTAINER_ID", "sb1")));
  EXPECT_THAT(args, Contains(std::pair<std::string, std::string>("K8S_POD_UID", "uid-1")));
  EXPECT_THAT(args, Contains(std::pair<std::string, std::string>("IgnoreUnknown", "1")));
}

TEST(CniErrorTest, MapsCodes) {
  auto s = CniErrorToStatus(nlohmann::json::parse(R"({"code": 7, "msg": "bad config", "details": "ipam"})"),
                            "bridge", "ADD", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("CNI plugin bridge ADD failed (code 7): bad config: ipam"));
  EXPECT_EQ(CniErrorToStatus(nlohmann::json::parse(R"({"code": 11, "msg": "later"})"), "p", "ADD", "").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CniErrorToStatus(nlohmann::json::parse(R"({"code": 3, "msg": "gone"})"), "p", "DEL", "").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CniErrorToStatus(nlohmann::json::parse(R"({"code": 100, "msg": "x"})"), "p", "ADD", "").code(),
            absl::StatusCode::kInternal);
}

class FakePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-exec-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  std::string Script(const std::string& name, const std::string& body) {
    std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(AtomicWriteFile(path, absl::StrCat("#!/bin/sh\n", body), 0755).ok());
    return path;
  }
  std::string dir_;
};

TEST_F(FakePluginTest, FindPlugin) {
  Script("good", "exit 0\n");
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/notexec", "x", 0644).ok());
  auto found = FindPlugin("good", {dir_ + "/nothere", dir_});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, dir_ + "/good");
  auto missing = FindPlugin("notexec", {dir_});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("\"notexec\" not found in " + dir_));
}

TEST_F(FakePluginTest, PassesEnvAndStdinAndParsesResult) {
  std::string path = Script("echo", R"(in=$(cat)
printf '{"cniVersion":"1.0.0","cmd":"%s","cid":"%s","args":"%s","in":%s}' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_ARGS" "$in"
)");
  PluginEnv env{"ADD", "c1", "/ns", "eth0", {{"A", "1"}}, {dir_}};
  nlohmann::json input = {{"name", "n"}, {"big", std::string(200000, 'x')}};
  auto out = InvokePlugin(path, "echo", env, input, absl::Seconds(10));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["cmd"], "ADD");
  EXPECT_EQ((*out)["cid"], "c1");
  EXPECT_EQ((*out)["args"], "A=1");
  EXPECT_EQ((*out)["in"], input);
}

TEST_F(FakePluginTest, ErrorObjectBecomesStatus) {
  std::string path = Script("fails", R"(cat >/dev/null
echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid bridge name","details":"br/0"}'
exit 1
)");
  auto out = InvokePlugin(path, "fails", PluginEnv{"ADD"}, nlohmann::json::object(), absl::Seconds(10));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("CNI plugin fails ADD failed (code 7): invalid bridge name: br/0"));

  std::string crash = Script("crash", "cat >/dev/null; echo boom >&2; exit 3\n");
  auto out2 = InvokePlugin(crash, "crash", PluginEnv{"DEL"}, nlohmann::json::object(), absl::Seconds(10));
  ASSERT_FALSE(out2.ok());
  EXPECT_THAT(out2.status().message(), HasSubstr("CNI plugin crash DEL exited with 3; stderr: boom"));

  std::string junk = Script("junk", "cat >/dev/null; echo not-json\n");
  auto out3 = InvokePlugin(junk, "junk", PluginEnv{"ADD"}, nlohmann::json::object(), absl::Seconds(10));
  ASSERT_FALSE(out3.ok());
  EXPECT_THAT(out3.status().message(), HasSubstr("stdout is not JSON: not-json"));

  std::string quiet = Script("quiet", "cat >/dev/null\n");
  auto out4 = InvokePlugin(quiet, "quiet", PluginEnv{"DEL"}, nlohmann::json::object(), absl::Seconds(10));
  ASSERT_TRUE(out4.ok()) << out4.status();
  EXPECT_TRUE(out4->is_null());
}

TEST_F(FakePluginTest, KillsOnTimeout) {
  std::string path = Script("hang", "exec sleep 30\n");
  int64_t start = MonotonicNanos();
  auto out = InvokePlugin(path, "hang", PluginEnv{"ADD"}, nlohmann::json::object(), absl::Milliseconds(300));
  int64_t took_ms = (MonotonicNanos() - start) / 1000000;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(out.status().message(), HasSubstr("CNI plugin hang ADD"));
  EXPECT_THAT(out.status().message(), HasSubstr("killed"));
  EXPECT_LT(took_ms, 5000);
}

}  // namespace
}  // namespace berth::cni
