// OCI hooks from CDI edits: saved in the bundle and loaded back, the state on
// stdin and the hook's own env, failures and timeouts named, and a
// createContainer hook run in another process's namespaces (a uts + mount
// namespace made with unshare stands in for the container).
#include "runtime-shim/cdi/container_hooks.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace berth::cdi {
namespace {

using ::testing::HasSubstr;

constexpr char kShell[] = "/bin/sh";

Hook ShellHook(const std::string& stage, const std::string& script, std::vector<std::string> env = {}) {
  Hook h;
  h.hook_name = stage;
  h.path = kShell;
  h.args = {"sh", "-c", script};
  h.env = std::move(env);
  return h;
}

class ContainerHooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-hooks-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    context_.id = "c1";
    context_.bundle = dir_;
    context_.pid = getpid();
    context_.annotations = {{"example.com/a", "b"}};
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    RemoveAll(dir_).IgnoreError();
  }
  std::string dir_;
  HookContext context_;
  pid_t child_ = -1;
};

TEST_F(ContainerHooksTest, NoHooksNoFileAndNothingRuns) {
  ASSERT_TRUE(SaveHooks(dir_, {}).ok());
  EXPECT_FALSE(ReadFile(dir_ + "/" + kHooksFile).ok());
  auto hooks = LoadHooks(dir_);
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  EXPECT_TRUE(hooks->empty());
  EXPECT_TRUE(RunCreateHooks(context_).ok());
  EXPECT_TRUE(RunHooks(HookStage::kPoststop, context_).ok());
}

TEST_F(ContainerHooksTest, SavedHooksLoadBack) {
  Hook timed = ShellHook("poststop", "true", {"A=1"});
  timed.timeout = 5;
  ASSERT_TRUE(SaveHooks(dir_, {ShellHook("createRuntime", "true"), timed}).ok());
  auto hooks = LoadHooks(dir_);
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ((*hooks)[0].hook_name, "createRuntime");
  EXPECT_EQ((*hooks)[1].args, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_EQ((*hooks)[1].env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ((*hooks)[1].timeout, 5);
}

TEST_F(ContainerHooksTest, EachStageRunsItsHooksInOrderWithTheStateOnStdin) {
  const std::string out = dir_ + "/out";
  std::vector<std::string> env = {"OUT=" + out};
  ASSERT_TRUE(SaveHooks(dir_, {ShellHook("poststart", "echo first >> $OUT", env),
                               ShellHook("poststop", "echo stop >> $OUT", env),
                               ShellHook("poststart", "cat >> $OUT; echo >> $OUT; env | sort >> $OUT", env)})
                  .ok());
  ASSERT_TRUE(RunHooks(HookStage::kPoststart, context_).ok());
  auto text = ReadFile(out);
  ASSERT_TRUE(text.ok());
  std::vector<std::string> lines = absl::StrSplit(*text, '\n');
  ASSERT_GE(lines.size(), 3u) << *text;
  EXPECT_EQ(lines[0], "first");  // poststop did not run
  auto state = nlohmann::json::parse(lines[1], nullptr, false);
  ASSERT_FALSE(state.is_discarded()) << lines[1];
  EXPECT_EQ(state["id"], "c1");
  EXPECT_EQ(state["status"], "running");
  EXPECT_EQ(state["pid"], getpid());
  EXPECT_EQ(state["bundle"], dir_);
  EXPECT_EQ(state["annotations"]["example.com/a"], "b");
  EXPECT_THAT(*text, HasSubstr("OUT=" + out));
  EXPECT_THAT(*text, ::testing::Not(HasSubstr("HOME=")));  // exactly the hook's env
}

TEST_F(ContainerHooksTest, AFailingHookIsNamedWithItsOutputAndStopsTheStage) {
  const std::string marker = dir_ + "/after";
  ASSERT_TRUE(SaveHooks(dir_, {ShellHook("createRuntime", "echo broken driver >&2; exit 3"),
                               ShellHook("createContainer", "touch " + marker)})
                  .ok());
  absl::Status st = RunCreateHooks(context_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("createRuntime hook /bin/sh failed: exit status 3"));
  EXPECT_THAT(st.message(), HasSubstr("broken driver"));
  EXPECT_FALSE(ReadFile(marker).ok());
}

TEST_F(ContainerHooksTest, AMissingProgramFails) {
  Hook missing;
  missing.hook_name = "poststart";
  missing.path = dir_ + "/no-such-hook";
  ASSERT_TRUE(SaveHooks(dir_, {missing}).ok());
  absl::Status st = RunHooks(HookStage::kPoststart, context_);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("exit status 127"));
}

TEST_F(ContainerHooksTest, AHookPastItsTimeoutIsKilled) {
  Hook slow = ShellHook("prestart", "exec sleep 30");
  slow.timeout = 1;
  ASSERT_TRUE(SaveHooks(dir_, {slow}).ok());
  absl::Time begin = absl::Now();
  absl::Status st = RunCreateHooks(context_);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(st.message(), HasSubstr("prestart hook /bin/sh: killed after its timeout of 1s"));
  EXPECT_LT(absl::Now() - begin, absl::Seconds(10));
}

TEST_F(ContainerHooksTest, CreateContainerHooksRunInTheContainersNamespaces) {
  // The "container": its own uts and mount namespaces, hostname hook-ns, a tmpfs only it sees.
  const std::string ready = dir_ + "/ready", inner = dir_ + "/inner";
  ASSERT_TRUE(MkdirAll(inner).ok());
  std::string script = absl::StrCat("hostname hook-ns && mount -t tmpfs none ", inner, " && touch ", inner,
                                    "/only-here ", ready, " && exec sleep 60");
  child_ = fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    execl("/usr/bin/unshare", "unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", script.c_str(),
          nullptr);
    _exit(127);
  }
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!ReadFile(ready).ok() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(ReadFile(ready).ok());

  const std::string out = dir_ + "/out";
  // The hook writes through the shared /tmp (the tmpfs covers only `inner`).
  ASSERT_TRUE(SaveHooks(dir_, {ShellHook("createContainer",
                                         absl::StrCat("hostname > ", out, "; ls ", inner, " >> ", out)),
                               ShellHook("createRuntime", absl::StrCat("hostname > ", out, ".runtime"))})
                  .ok());
  context_.pid = child_;
  absl::Status st = RunCreateHooks(context_);
  ASSERT_TRUE(st.ok()) << st;
  auto seen = ReadFile(out);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, "hook-ns\nonly-here\n");
  auto runtime_seen = ReadFile(out + ".runtime");
  ASSERT_TRUE(runtime_seen.ok());
  EXPECT_NE(*runtime_seen, "hook-ns\n");  // createRuntime stays in the runtime's namespaces
}

TEST_F(ContainerHooksTest, InContainerStagesNeedTheContainersProcess) {
  ASSERT_TRUE(SaveHooks(dir_, {ShellHook("startContainer", "true")}).ok());
  context_.pid = 0;
  absl::Status st = RunHooks(HookStage::kStartContainer, context_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("startContainer hook /bin/sh: the container has no process"));
}

TEST(HookStateJsonTest, StatusFollowsTheStageAndPoststopHasNoPid) {
  HookContext c;
  c.id = "x";
  c.bundle = "/b";
  c.pid = 42;
  auto at = [&](HookStage s) { return nlohmann::json::parse(HookStateJson(s, c)); };
  EXPECT_EQ(at(HookStage::kCreateRuntime)["status"], "creating");
  EXPECT_EQ(at(HookStage::kStartContainer)["status"], "created");
  EXPECT_EQ(at(HookStage::kPoststart)["status"], "running");
  EXPECT_EQ(at(HookStage::kPoststop)["status"], "stopped");
  EXPECT_FALSE(at(HookStage::kPoststop).contains("pid"));
  EXPECT_EQ(at(HookStage::kCreateContainer)["pid"], 42);
  EXPECT_EQ(at(HookStage::kCreateContainer)["ociVersion"], "1.2.0");
}

}  // namespace
}  // namespace berth::cdi
