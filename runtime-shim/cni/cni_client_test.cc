// CniClient over fake plugins (shell scripts that log their calls), for the
// chain logic: prevResult passing, undo on failure, DEL order, cache, STATUS.
#include "runtime-shim/cni/cni_client.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cni {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CniClientFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-fake-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/bin").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/conf").ok());
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/netns", "").ok());
    // Logs "<name> <command> <prev|noprev>"; ADD prints a result with one
    // IP per plugin (its prevResult's IPs kept); "fail-*" plugins fail ADD
    // and STATUS with a CNI error.
    std::string script = absl::StrCat(R"(#!/bin/sh
name=$(basename "$0")
in=$(cat)
prev=noprev
case "$in" in *'"prevResult"'*) prev=prev;; esac
echo "$name $CNI_COMMAND $prev" >> )", dir_, R"(/log
case "$name:$CNI_COMMAND" in
  fail*:ADD|fail*:STATUS) echo '{"code": 50, "msg": "not today", "details": "fake"}'; exit 1;;
  *:ADD) echo '{"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "'"$CNI_NETNS"'"}], "ips": [{"address": "10.9.0.7/24", "interface": 0}]}';;
esac
exit 0
)");
    for (const char* name : {"a", "b", "c", "fail-b"}) {
      ASSERT_TRUE(AtomicWriteFile(absl::StrCat(dir_, "/bin/", name), script, 0755).ok());
    }
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  void WriteConfig(const std::string& version, const std::string& types) {
    std::string plugins;
    for (absl::string_view type : absl::StrSplit(types, ',')) {
      absl::StrAppend(&plugins, plugins.empty() ? "" : ",", R"({"type": ")", type, R"("})");
    }
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/conf/10-net.conflist",
                                absl::StrCat(R"({"cniVersion": ")", version,
                                             R"(", "name": "net", "plugins": [)", plugins, "]}"))
                    .ok());
  }
  CniClientOptions Options() {
    return CniClientOptions{dir_ + "/conf", {dir_ + "/bin"}, dir_ + "/cache", absl::Seconds(10)};
  }
  AttachmentRequest Request() {
    AttachmentRequest request;
    request.container_id = "c1";
    request.netns = dir_ + "/netns";
    return request;
  }
  std::vector<std::string> TakeLog() {
    auto data = ReadFile(dir_ + "/log");
    unlink((dir_ + "/log").c_str());
    if (!data.ok()) return {};
    return absl::StrSplit(*data, '\n', absl::SkipEmpty());
  }
  std::string dir_;
};

TEST_F(CniClientFakeTest, ChainsAddAndDelsInReverseWithCachedResult) {
  WriteConfig("1.0.0", "a,b,c");
  CniClient client(Options());
  auto result = client.Add(Request());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->PodIPs(), ElementsAre("10.9.0.7"));
  EXPECT_THAT(TakeLog(), ElementsAre("a ADD noprev", "b ADD prev", "c ADD prev"));
  EXPECT_TRUE(PathExists(dir_ + "/cache/net-c1-eth0.json"));

  EXPECT_TRUE(client.Check(Request()).ok());
  EXPECT_THAT(TakeLog(), ElementsAre("a CHECK prev", "b CHECK prev", "c CHECK prev"));

  // The config changes and plugin b disappears: DEL uses the cached chain
  // and skips the missing plugin.
  WriteConfig("1.0.0", "c");
  unlink((dir_ + "/bin/b").c_str());
  EXPECT_TRUE(client.Del(Request()).ok());
  EXPECT_THAT(TakeLog(), ElementsAre("c DEL prev", "a DEL prev"));
  EXPECT_FALSE(PathExists(dir_ + "/cache/net-c1-eth0.json"));
  // Nothing cached: DEL with the current config.
  EXPECT_TRUE(client.Del(Request()).ok());
  EXPECT_THAT(TakeLog(), ElementsAre("c DEL noprev"));
}

TEST_F(CniClientFakeTest, FailureMidwayUndoesTheChain) {
  WriteConfig("1.0.0", "a,fail-b,c");
  CniClient client(Options());
  auto result = client.Add(Request());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(),
              HasSubstr("network net: CNI plugin fail-b ADD failed (code 50): not today: fake"));
  EXPECT_THAT(TakeLog(), ElementsAre("a ADD noprev", "fail-b ADD prev", "fail-b DEL prev", "a DEL prev"));
  EXPECT_FALSE(PathExists(dir_ + "/cache/net-c1-eth0.json"));
}

TEST_F(CniClientFakeTest, OldVersionsGetNoPrevResultOnDelAndNoCheck) {
  WriteConfig("0.3.1", "a,b");
  CniClient client(Options());
  ASSERT_TRUE(client.Add(Request()).ok());
  TakeLog();
  EXPECT_EQ(client.Check(Request()).code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(client.Del(Request()).ok());
  EXPECT_THAT(TakeLog(), ElementsAre("b DEL noprev", "a DEL noprev"));
}

TEST_F(CniClientFakeTest, StatusUsesPluginsFrom110) {
  WriteConfig("1.0.0", "a,fail-b");
  CniClient client(Options());
  EXPECT_TRUE(client.Status().ok());  // 1.0.0: config validity and binaries only
  EXPECT_TRUE(TakeLog().empty());
  WriteConfig("1.1.0", "a,b");
  EXPECT_TRUE(client.Status().ok());
  EXPECT_THAT(TakeLog(), ElementsAre("a STATUS noprev", "b STATUS noprev"));
  WriteConfig("1.1.0", "a,fail-b");
  absl::Status status = client.Status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("NetworkPluginNotReady: network net"));
  EXPECT_THAT(status.message(), HasSubstr("not today"));
}

TEST_F(CniClientFakeTest, GarbageCollectDelsStaleAndCallsPluginGcFrom110) {
  WriteConfig("1.1.0", "a,b");
  CniClient client(Options());
  AttachmentRequest keep = Request(), stale = Request();
  keep.container_id = "keep";
  stale.container_id = "stale";
  ASSERT_TRUE(client.Add(keep).ok());
  ASSERT_TRUE(client.Add(stale).ok());
  TakeLog();
  ASSERT_TRUE(client.GarbageCollect({"keep"}).ok());
  EXPECT_THAT(TakeLog(), ElementsAre("b DEL prev", "a DEL prev", "a GC noprev", "b GC noprev"));
  EXPECT_TRUE(PathExists(dir_ + "/cache/net-keep-eth0.json"));
  EXPECT_FALSE(PathExists(dir_ + "/cache/net-stale-eth0.json"));
  WriteConfig("1.0.0", "a,b");
  ASSERT_TRUE(client.GarbageCollect({"keep"}).ok());
  EXPECT_TRUE(TakeLog().empty());  // nothing stale, no GC before 1.1.0
}

TEST_F(CniClientFakeTest, RejectsBadRequests) {
  WriteConfig("1.0.0", "a");
  CniClient client(Options());
  AttachmentRequest request = Request();
  request.netns = dir_ + "/no-such-netns";
  auto result = client.Add(request);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("no-such-netns"));
  for (const char* id : {"", "../etc", "a/b", "-x", "a b"}) {
    request = Request();
    request.container_id = id;
    auto bad = client.Add(request);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(bad.status().message(), HasSubstr("container_id")) << id;
    EXPECT_EQ(client.Del(request).code(), absl::StatusCode::kInvalidArgument) << id;
  }
  for (const char* ifname : {"", "..", "a/b", "eth0:1", "averyveryverylongname"}) {
    request = Request();
    request.ifname = ifname;
    auto bad = client.Add(request);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << ifname;
    EXPECT_THAT(bad.status().message(), HasSubstr("ifname")) << ifname;
  }
  EXPECT_TRUE(TakeLog().empty());
}

}  // namespace
}  // namespace berth::cni
