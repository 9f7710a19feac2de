// downwardAPI payloads, Go quoting, and the atomic ..data layout.
#include "agent/volume/downward_api.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/volume/atomic_dir_writer.h"
#include "agent/volume/testing/volume_test_env.h"

namespace berth::agent::volume {
namespace {

// The file's content, or the error as text (so a failed read fails the
// comparison instead of aborting the test binary).
std::string ReadOrError(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? *data : "<" + data.status().ToString() + ">";
}

k8s::Pod SamplePod() {
  k8s::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "prod";
  pod.metadata.uid = "1111-2222";
  pod.metadata.labels = {{"app", "web"}, {"tier", "front end"}};
  pod.metadata.annotations = {{"note", "say \"hi\"\nbye"}};
  k8s::Container c;
  c.name = "app";
  c.resources.limits["cpu"] = *k8s::Quantity::Parse("1500m");
  c.resources.limits["memory"] = *k8s::Quantity::Parse("64Mi");
  c.resources.requests["cpu"] = *k8s::Quantity::Parse("250m");
  pod.spec.containers.push_back(c);
  return pod;
}

NodeAllocatable Node() { return NodeAllocatable{4000, 8LL << 30, 100LL << 30}; }

TEST(GoQuoteTest, EscapesLikeGo) {
  EXPECT_EQ(GoQuote("plain"), "\"plain\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("l1\nl2\t\x01"), "\"l1\\nl2\\t\\x01\"");
  EXPECT_EQ(GoQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // printable UTF-8 stays
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(FormatMap({{"b", "2"}, {"a", "1"}}), "a=\"1\"\nb=\"2\"");
  EXPECT_EQ(FormatMap({}), "");
}

TEST(DownwardApiTest, MetadataFiles) {
  nlohmann::json src = nlohmann::json::parse(R"({
    "defaultMode": 420,
    "items": [
      {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
      {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
      {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}, "mode": 256},
      {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
      {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
      {"path": "meta/app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
      {"path": "meta/missing", "fieldRef": {"fieldPath": "metadata.annotations['none']"}}
    ]})");
  auto p = DownwardApiPayload(src, SamplePod(), Node(), "spec.volumes[0].downwardAPI");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("name").data, "web");
  EXPECT_EQ(p->at("namespace").data, "prod");
  EXPECT_EQ(p->at("uid").data, "1111-2222");
  EXPECT_EQ(p->at("uid").mode, 0400u);
  EXPECT_EQ(p->at("name").mode, 0644u);
  EXPECT_EQ(p->at("labels").data, "app=\"web\"\ntier=\"front end\"");
  EXPECT_EQ(p->at("annotations").data, "note=\"say \\\"hi\\\"\\nbye\"");
  EXPECT_EQ(p->at("meta/app").data, "web");
  EXPECT_EQ(p->at("meta/missing").data, "");
}

TEST(DownwardApiTest, ResourceFiles) {
  nlohmann::json src = nlohmann::json::parse(R"({"items": [
      {"path": "cpu_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu"}},
      {"path": "cpu_limit_m", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}},
      {"path": "cpu_request_m", "resourceFieldRef": {"containerName": "app", "resource": "requests.cpu", "divisor": "1m"}},
      {"path": "mem_limit_mi", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}},
      {"path": "mem_request", "resourceFieldRef": {"containerName": "app", "resource": "requests.memory"}},
      {"path": "eph_limit_gi", "resourceFieldRef": {"containerName": "app", "resource": "limits.ephemeral-storage", "divisor": "1Gi"}}
    ]})");
  auto p = DownwardApiPayload(src, SamplePod(), Node(), "v");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("cpu_limit").data, "2");  // 1.5 cores rounded up
  EXPECT_EQ(p->at("cpu_limit_m").data, "1500");
  EXPECT_EQ(p->at("cpu_request_m").data, "250");
  EXPECT_EQ(p->at("mem_limit_mi").data, "64");
  EXPECT_EQ(p->at("mem_request").data, "0");
  EXPECT_EQ(p->at("eph_limit_gi").data, "100");  // no limit: the node's allocatable
}

TEST(DownwardApiTest, BadItemsNameTheField) {
  auto err = [](const char* json) {
    return DownwardApiPayload(nlohmann::json::parse(json), SamplePod(), Node(), "spec.volumes[1].downwardAPI").status();
  };
  absl::Status st = err(R"({"items": [{"path": "x", "fieldRef": {"fieldPath": "spec.nodeName"}}]})");
  EXPECT_NE(st.message().find("spec.volumes[1].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: \"spec.nodeName\""),
            std::string::npos)
      << st;
  st = err(R"({"items": [{"path": "ok", "fieldRef": {"fieldPath": "metadata.name"}}, {"path": "../x", "fieldRef": {"fieldPath": "metadata.name"}}]})");
  EXPECT_NE(st.message().find("items[1].path: Invalid value: \"../x\""), std::string::npos) << st;
  st = err(R"({"items": [{"path": "x", "resourceFieldRef": {"containerName": "nope", "resource": "limits.cpu"}}]})");
  EXPECT_NE(st.message().find("containerName: Invalid value: \"nope\""), std::string::npos) << st;
  st = err(R"({"items": [{"path": "x", "resourceFieldRef": {"containerName": "app", "resource": "limits.gpu"}}]})");
  EXPECT_NE(st.message().find("Unsupported value: \"limits.gpu\""), std::string::npos) << st;
  st = err(R"({"defaultMode": 4095, "items": []})");
  EXPECT_NE(st.message().find("defaultMode: Invalid value: 4095"), std::string::npos) << st;
}

class AtomicDirWriterTest : public testing::TempRootTest {};

std::string Link(const std::string& p) {
  char buf[4096];
  ssize_t n = readlink(p.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, n);
}

int VersionDirs(const std::string& dir) {
  int n = 0;
  auto names = ListDir(dir);
  EXPECT_TRUE(names.ok()) << names.status();
  if (!names.ok()) return -1;
  for (const auto& name : *names) n += name.rfind("..20", 0) == 0;
  return n;
}

TEST_F(AtomicDirWriterTest, DataLinkLayoutAndUpdates) {
  std::string dir = root_ + "/vol";
  Payload v1 = {{"labels", {"a=\"1\"", 0644}}, {"nested/file", {"x", 0600}}, {"gone", {"old", 0644}}};
  auto changed = WriteAtomicDir(dir, v1);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  std::string version = Link(dir + "/..data");
  EXPECT_EQ(version.rfind("..20", 0), 0u) << version;
  EXPECT_EQ(Link(dir + "/labels"), "..data/labels");
  EXPECT_EQ(Link(dir + "/nested"), "..data/nested");
  EXPECT_EQ(ReadOrError(dir + "/labels"), "a=\"1\"");
  EXPECT_EQ(ReadOrError(dir + "/nested/file"), "x");
  struct stat st;
  ASSERT_EQ(stat((dir + "/nested/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // The same payload again: nothing is rewritten.
  changed = WriteAtomicDir(dir, v1);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(Link(dir + "/..data"), version);

  // A new payload: one swap, the stale name and the old version go away.
  Payload v2 = {{"labels", {"a=\"2\"", 0644}}, {"nested/file", {"x", 0600}}};
  changed = WriteAtomicDir(dir, v2);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_NE(Link(dir + "/..data"), version);
  EXPECT_EQ(ReadOrError(dir + "/labels"), "a=\"2\"");
  EXPECT_FALSE(PathExists(dir + "/gone"));
  EXPECT_FALSE(PathExists(dir + "/" + version));
  EXPECT_FALSE(PathExists(dir + "/..data_tmp"));
  EXPECT_EQ(VersionDirs(dir), 1);
}

TEST_F(AtomicDirWriterTest, RejectsEscapingPaths) {
  std::string dir = root_ + "/vol";
  EXPECT_FALSE(WriteAtomicDir(dir, {{"../escape", {"x", 0644}}}).ok());
  EXPECT_FALSE(WriteAtomicDir(dir, {{"/abs", {"x", 0644}}}).ok());
  EXPECT_FALSE(WriteAtomicDir(dir, {{"a/../../b", {"x", 0644}}}).ok());
  EXPECT_FALSE(PathExists(dir));
  EXPECT_FALSE(PathExists(root_ + "/escape"));
}

}  // namespace
}  // namespace berth::agent::volume
