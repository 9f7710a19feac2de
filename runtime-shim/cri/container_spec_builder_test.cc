#include "runtime-shim/cri/container_spec_builder.h"

#include <cstdlib>

#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

namespace cri = ::runtime::v1;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class SpecBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-spec-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(MkdirAll(root_ + "/layer/etc").ok());
    ASSERT_TRUE(AtomicWriteFile(root_ + "/layer/etc/passwd",
                                "root:x:0:0:root:/root:/bin/sh\nberth:x:1000:1000::/home/berth:/bin/sh\n")
                    .ok());
    ASSERT_TRUE(AtomicWriteFile(root_ + "/layer/etc/group", "root:x:0:\nberth:x:1000:\nvideo:x:44:berth\n").ok());
    image_.id = "sha256:abc";
    image_.entrypoint = {"/entry"};
    image_.cmd = {"default-arg"};
    image_.env = {"PATH=/bin", "A=image"};
    config_.mutable_metadata()->set_name("c");
    config_.mutable_image()->set_image("busybox");
    config_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(cri::CONTAINER);
    sandbox_.mutable_metadata()->set_name("pod");
    sandbox_.set_hostname("pod-host");
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  SpecInputs Inputs() {
    SpecInputs in;
    in.config = &config_;
    in.sandbox_config = &sandbox_;
    in.image = &image_;
    in.lower_dirs = {root_ + "/layer"};
    in.bundle = root_ + "/bundle";
    in.sandbox_namespaces = {{"net", "/x/net"}, {"ipc", "/x/ipc"}, {"uts", "/x/uts"}};
    in.sandbox_files_dir = root_;
    return in;
  }

  std::string root_;
  image::Image image_;
  cri::ContainerConfig config_;
  cri::PodSandboxConfig sandbox_;
};

TEST_F(SpecBuilderTest, CommandMergesWithImageEntrypointAndCmd) {
  EXPECT_THAT(*MergeCommand(config_, image_), ElementsAre("/entry", "default-arg"));
  config_.add_args("x");
  EXPECT_THAT(*MergeCommand(config_, image_), ElementsAre("/entry", "x"));
  config_.add_command("/bin/sh");
  EXPECT_THAT(*MergeCommand(config_, image_), ElementsAre("/bin/sh", "x"));
  image::Image empty;
  cri::ContainerConfig none;
  auto status = MergeCommand(none, empty).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("command"));
}

TEST_F(SpecBuilderTest, EnvOverridesImageKeyByKey) {
  auto* kv = config_.add_envs();
  kv->set_key("A");
  kv->set_value("config");
  kv = config_.add_envs();
  kv->set_key("B");
  kv->set_value("2");
  EXPECT_THAT(MergeEnv(config_, image_), ElementsAre("PATH=/bin", "A=config", "B=2"));
}

TEST_F(SpecBuilderTest, ResolvesUsersAndGroupsFromTheImage) {
  auto user = ResolveImageUser({root_ + "/layer"}, "berth");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1000u);
  EXPECT_THAT(user->additional_gids, ElementsAre(44u));
  auto numeric = ResolveImageUser({root_ + "/layer"}, "4242:7");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->uid, 4242u);
  EXPECT_EQ(numeric->gid, 7u);
  EXPECT_EQ(ResolveImageUser({root_ + "/layer"}, "nobody-here").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SpecBuilderTest, BuildsNamespacesMountsAndSecurity) {
  ASSERT_TRUE(AtomicWriteFile(root_ + "/hosts", "127.0.0.1 localhost\n").ok());
  config_.mutable_linux()->mutable_security_context()->set_run_as_username("berth");
  config_.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_drop_capabilities("chown");
  auto* m = config_.add_mounts();
  m->set_container_path("/data");
  m->set_host_path(root_);
  m->set_readonly(true);
  auto built = BuildContainerSpec(Inputs());
  ASSERT_TRUE(built.ok()) << built.status();
  const ContainerSpec& spec = built->spec;
  EXPECT_EQ(spec.uid, 1000u);
  EXPECT_THAT(spec.capabilities, Not(Contains("CAP_CHOWN")));
  EXPECT_THAT(spec.capabilities, Contains("CAP_KILL"));
  EXPECT_FALSE(spec.seccomp);  // unset profile: unconfined, as containerd
  EXPECT_TRUE(spec.masked_paths.empty());  // only what the client asks for
  ASSERT_GE(spec.mounts.size(), 2u);
  EXPECT_EQ(spec.mounts[0].destination, "/data");
  EXPECT_THAT(spec.mounts[0].options, Contains("ro"));
  EXPECT_EQ(spec.mounts[1].destination, "/etc/hosts");
  EXPECT_THAT(spec.env, Contains("HOSTNAME=pod-host"));
  bool new_pid = false;
  for (const auto& ns : spec.namespaces) new_pid |= ns.type == "pid" && ns.path.empty();
  EXPECT_TRUE(new_pid);
}

TEST_F(SpecBuilderTest, RuntimeDefaultSeccompIsWritten) {
  config_.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      cri::SecurityProfile::RuntimeDefault);
  auto built = BuildContainerSpec(Inputs());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->spec.seccomp);
  EXPECT_THAT(built->seccomp_profile, HasSubstr("SCMP_ACT_ERRNO"));
}

TEST_F(SpecBuilderTest, BadInputNamesTheField) {
  auto* m = config_.add_mounts();
  m->set_container_path("/data");
  m->set_host_path(root_ + "/does-not-exist");
  auto status = BuildContainerSpec(Inputs()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("mounts[0].host_path"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("does-not-exist"));

  config_.clear_mounts();
  config_.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities("BOGUS");
  status = BuildContainerSpec(Inputs()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("BOGUS"));

  config_.mutable_linux()->mutable_security_context()->clear_capabilities();
  ASSERT_TRUE(AtomicWriteFile(root_ + "/bad.json", "{\"defaultAction\": 3").ok());
  auto* seccomp = config_.mutable_linux()->mutable_security_context()->mutable_seccomp();
  seccomp->set_profile_type(cri::SecurityProfile::Localhost);
  seccomp->set_localhost_ref(root_ + "/bad.json");
  status = BuildContainerSpec(Inputs()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("seccomp"));
}

TEST_F(SpecBuilderTest, OomScoreAdjIsClampedToTheHostMinimum) {
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(-998);
  SpecInputs in = Inputs();
  in.min_oom_score_adj = 0;
  auto built = BuildContainerSpec(in);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->spec.oom_score_adj, 0);
  EXPECT_FALSE(built->warnings.empty());
}

}  // namespace
}  // namespace berth
