// CDI specs (JSON and YAML), the registry's override order and errors, and
// the edits applied to a ContainerSpec.
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cdi/cdi_injection.h"
#include "runtime-shim/cdi/cdi_registry.h"
#include "runtime-shim/cdi/cdi_spec.h"

namespace berth::cdi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kJsonSpec[] = R"({
  "cdiVersion": "0.6.0",
  "kind": "example.com/widget",
  "containerEdits": {"env": ["WIDGET_DRIVER=1"]},
  "devices": [
    {"name": "w0", "containerEdits": {
      "env": ["WIDGET=w0"],
      "deviceNodes": [{"path": "/dev/widget0", "hostPath": "/dev/null", "permissions": "rw"}],
      "mounts": [{"hostPath": "/etc/hostname", "containerPath": "/widget/info", "options": ["ro", "nosuid"]}],
      "hooks": [{"hookName": "createContainer", "path": "/bin/true", "args": ["true"]}]}},
    {"name": "w1", "containerEdits": {
      "deviceNodes": [{"path": "/dev/widget1", "type": "c", "major": 1, "minor": 5, "fileMode": 432}]}}
  ]
})";

constexpr char kYamlSpec[] = R"(
cdiVersion: 0.8.0
kind: example.com/gadget
devices:
  - name: g0
    containerEdits:
      env: [GADGET=g0]
      additionalGids: [44]
      deviceNodes:
        - path: /dev/gadget0
          hostPath: /dev/zero
)";

class CdiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cdi-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/etc").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/run").ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }
  std::vector<std::string> Dirs() { return {dir_ + "/etc", dir_ + "/run"}; }
  std::string dir_;
};

TEST_F(CdiTest, ParsesJsonAndYaml) {
  auto json = ParseSpec(kJsonSpec, "widget.json");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->kind, "example.com/widget");
  ASSERT_EQ(json->devices.size(), 2u);
  EXPECT_EQ(json->devices[1].edits.device_nodes[0].major, 1);
  EXPECT_EQ(json->devices[1].edits.device_nodes[0].file_mode, 0660u);
  EXPECT_EQ(json->devices[0].edits.hooks[0].hook_name, "createContainer");
  auto yaml = ParseSpec(kYamlSpec, "gadget.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->version, "0.8.0");
  EXPECT_THAT(yaml->devices[0].edits.additional_gids, ElementsAre(44u));
}

TEST_F(CdiTest, BadSpecsNameTheFileAndField) {
  auto version = ParseSpec(R"({"cdiVersion": "1.0.0", "kind": "a.com/b", "devices": []})", "v.json");
  EXPECT_THAT(std::string(version.status().message()), HasSubstr("v.json: cdiVersion: \"1.0.0\""));
  auto kind = ParseSpec(R"({"cdiVersion": "0.5.0", "kind": "nokind", "devices": []})", "k.json");
  EXPECT_THAT(std::string(kind.status().message()), HasSubstr("kind: \"nokind\""));
  auto node = ParseSpec(R"({"cdiVersion": "0.5.0", "kind": "a.com/b", "devices": [
      {"name": "x", "containerEdits": {"deviceNodes": [{"path": "dev/x"}]}}]})",
                        "n.json");
  EXPECT_THAT(std::string(node.status().message()),
              HasSubstr("devices[0].containerEdits.deviceNodes[0].path: \"dev/x\" must be an absolute path"));
  auto perms = ParseSpec(R"({"cdiVersion": "0.5.0", "kind": "a.com/b", "devices": [
      {"name": "x", "containerEdits": {"deviceNodes": [{"path": "/dev/x", "permissions": "rwx"}]}}]})",
                         "p.json");
  EXPECT_THAT(std::string(perms.status().message()), HasSubstr("permissions"));
  auto hook = ParseSpec(R"({"cdiVersion": "0.5.0", "kind": "a.com/b", "devices": [], "containerEdits": {
      "hooks": [{"hookName": "createContainer", "path": "/bin/true", "timeout": 0}]}})",
                        "h.json");
  EXPECT_THAT(std::string(hook.status().message()),
              HasSubstr("containerEdits.hooks[0].timeout: must be greater than zero"));
  auto stage = ParseSpec(R"({"cdiVersion": "0.5.0", "kind": "a.com/b", "devices": [], "containerEdits": {
      "hooks": [{"hookName": "preStart", "path": "/bin/true"}]}})",
                         "s.json");
  EXPECT_THAT(std::string(stage.status().message()), HasSubstr("hookName: \"preStart\" is not an OCI hook"));
  EXPECT_FALSE(ParseQualifiedName("example.com/widget").ok());
  EXPECT_TRUE(ParseQualifiedName("example.com/widget=w0").ok());
}

TEST_F(CdiTest, LaterDirsOverrideAndUnknownDevicesAreNamed) {
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/etc/widget.json", kJsonSpec).ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/etc/gadget.yaml", kYamlSpec).ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/etc/broken.json", "{\"cdiVersion\": 3}").ok());
  std::string override_spec = R"({"cdiVersion": "0.3.0", "kind": "example.com/widget",
      "devices": [{"name": "w1", "containerEdits": {"env": ["OVERRIDDEN=1"]}}]})";
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/run/widget.json", override_spec).ok());
  CdiRegistry r = CdiRegistry::Load(Dirs());
  EXPECT_EQ(r.device_count(), 3u);
  ASSERT_EQ(r.errors().size(), 1u);
  auto w1 = r.Resolve({"example.com/widget=w1"});
  ASSERT_TRUE(w1.ok()) << w1.status();
  EXPECT_THAT(w1->env, ElementsAre("OVERRIDDEN=1"));
  auto missing = r.Resolve({"example.com/widget=w7"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("\"example.com/widget=w7\""));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("broken.json"));
}

TEST_F(CdiTest, ContainerRequestsAndEditsApplied) {
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/etc/widget.json", kJsonSpec).ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/run/gadget.yaml", kYamlSpec).ok());
  ::runtime::v1::ContainerConfig config;
  config.add_cdi_devices()->set_name("example.com/widget=w0");
  (*config.mutable_annotations())["cdi.k8s.io/gadgets"] = "example.com/gadget=g0, example.com/widget=w0";
  (*config.mutable_annotations())["other"] = "example.com/widget=w1";
  EXPECT_THAT(RequestedDevices(config), ElementsAre("example.com/widget=w0", "example.com/gadget=g0"));

  auto edits = ResolveForContainer(config, Dirs());
  ASSERT_TRUE(edits.ok()) << edits.status();
  ASSERT_EQ(edits->devices.size(), 2u);
  EXPECT_EQ(edits->devices[0].path, "/dev/widget0");
  EXPECT_EQ(edits->devices[0].major, 1);  // from /dev/null
  EXPECT_EQ(edits->devices[0].minor, 3);
  EXPECT_EQ(edits->devices[1].minor, 5);  // from /dev/zero
  EXPECT_THAT(DeviceCgroupRules(*edits), ElementsAre("c 1:3 rw", "c 1:5 rwm"));
  ASSERT_EQ(edits->mounts.size(), 1u);
  EXPECT_THAT(edits->mounts[0].options, ElementsAre("rbind", "ro", "nosuid"));
  EXPECT_EQ(edits->hooks.size(), 1u);

  ContainerSpec spec;
  spec.env = {"PATH=/bin", "WIDGET=old"};
  ApplyEdits(*edits, &spec);
  EXPECT_THAT(spec.env, ElementsAre("PATH=/bin", "WIDGET=w0", "WIDGET_DRIVER=1", "GADGET=g0"));
  EXPECT_EQ(spec.devices.size(), 2u);
  EXPECT_EQ(spec.mounts[0].destination, "/widget/info");
  EXPECT_THAT(spec.additional_gids, ElementsAre(44u));

  // A node given by numbers only, with no host node, is made by mknod.
  ContainerEdits numbers;
  numbers.device_nodes.push_back({"/dev/made", "/nonexistent/node", "c", 10, 200, 0600, "", {}, {}});
  auto concrete = MakeConcrete(numbers);
  ASSERT_TRUE(concrete.ok());
  EXPECT_EQ(concrete->devices[0].host_path, "");
  EXPECT_EQ(concrete->devices[0].file_mode, 0600u);
  numbers.device_nodes[0].major.reset();
  EXPECT_THAT(std::string(MakeConcrete(numbers).status().message()), HasSubstr("/nonexistent/node"));

  ::runtime::v1::ContainerConfig unknown;
  unknown.add_cdi_devices()->set_name("example.com/widget=nope");
  EXPECT_THAT(std::string(ResolveForContainer(unknown, Dirs()).status().message()),
              HasSubstr("example.com/widget=nope"));
}

}  // namespace
}  // namespace berth::cdi
