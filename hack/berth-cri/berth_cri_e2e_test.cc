// End-to-end test of the berth-cri executable: starts berth-agent (or
// containerd, with BERTH_E2E_RUNTIME=containerd) under a temporary root with
// e2e/runtime_under_test, then drives `berth-cri run`, `ps`, `logs`, `exec`,
// `stopp` and `rmp` as subprocesses and checks what they print. The runtime's
// teardown removes processes, mounts and cgroups even when a check fails.
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/runtime_under_test.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef BERTH_CRI_PATH
#error "BERTH_CRI_PATH must name the berth-cri binary"
#endif

namespace berth::cri_cli {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class BerthCriE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    images_dir_ = new std::string("/tmp/berth-cri-e2e-images-XXXXXX");
    images_status_ = new absl::Status();
    if (mkdtemp(images_dir_->data()) == nullptr) {
      *images_status_ = absl::InternalError("mkdtemp for images failed");
      return;
    }
    *images_status_ = e2e::RunCommand({e2e::SourceDir() + "/hack/build-busybox-image.sh", *images_dir_},
                                      absl::Seconds(120))
                          .status();
  }

  static void TearDownTestSuite() {
    (void)RemoveAll(*images_dir_);
    delete images_dir_;
    delete images_status_;
  }

  void SetUp() override {
    ASSERT_TRUE(images_status_->ok()) << "building test images: " << *images_status_;
    runtime_ = e2e::RuntimeUnderTest::FromEnv();
    absl::Status started =
        runtime_->Start({*images_dir_ + "/busybox.tar", *images_dir_ + "/pause.tar"});
    ASSERT_TRUE(started.ok()) << "starting " << runtime_->name() << ": " << started;
    const std::string root = runtime_->root();
    const std::string uid = absl::StrCat("berth-cri-e2e-", getpid());
    pod_json_ = root + "/pod.json";
    ASSERT_TRUE(AtomicWriteFile(pod_json_, absl::StrCat(R"({
      "metadata": {"name": "demo", "namespace": "default", "uid": ")", uid, R"("},
      "hostname": "demo",
      "log_directory": ")", root, "/logs/default_demo_", uid, R"(",
      "linux": {"cgroup_parent": ")", runtime_->cgroup_parent(), "/pod", uid, R"("}
    })")).ok());
    container_json_ = root + "/container.json";
    ASSERT_TRUE(AtomicWriteFile(container_json_, R"({
      "metadata": {"name": "hello"},
      "image": {"image": "docker.io/library/busybox:latest"},
      "command": ["sh", "-c", "echo hello from berth-cri; echo to stderr >&2; exec sleep 3600"],
      "log_path": "hello/0.log"
    })").ok());
    short_json_ = root + "/short.json";
    ASSERT_TRUE(AtomicWriteFile(short_json_, R"({
      "metadata": {"name": "short"},
      "image": {"image": "docker.io/library/busybox:latest"},
      "command": ["sh", "-c", "echo one; echo two; exit 0"],
      "log_path": "short/0.log"
    })").ok());
  }

  void TearDown() override {
    if (runtime_ != nullptr) {
      absl::Status stopped = runtime_->Stop();
      EXPECT_TRUE(stopped.ok()) << "cleaning up " << runtime_->name() << ": " << stopped;
    }
  }

  // berth-cri with the runtime's endpoint; its stdout and stderr together,
  // or an error carrying its exit status and output.
  absl::StatusOr<std::string> Cri(std::vector<std::string> args,
                                  absl::Duration timeout = absl::Seconds(60)) {
    args.insert(args.begin(), {BERTH_CRI_PATH, "--runtime-endpoint", runtime_->endpoint()});
    return e2e::RunCommand(args, timeout);
  }

  // Runs `berth-cri logs ID` until its output contains `text` (bounded).
  std::string WaitForLog(const std::string& id, const std::string& text) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string last;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::string> out = Cri({"logs", id});
      if (out.ok()) {
        last = *out;
        if (absl::StrContains(last, text)) return last;
      } else {
        last = std::string(out.status().message());
      }
      // `logs` reads the file once; the container may not have written yet.
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "log of " << id << " never showed \"" << text << "\"; last output:\n" << last;
    return last;
  }

  static std::string* images_dir_;
  static absl::Status* images_status_;
  std::unique_ptr<e2e::RuntimeUnderTest> runtime_;
  std::string pod_json_, container_json_, short_json_;
};

std::string* BerthCriE2eTest::images_dir_ = nullptr;
absl::Status* BerthCriE2eTest::images_status_ = nullptr;

std::string Trimmed(const std::string& text) { return std::string(absl::StripAsciiWhitespace(text)); }

TEST_F(BerthCriE2eTest, RunPsLogsExecStopRemove) {
  auto version = Cri({"version"});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_THAT(*version, HasSubstr("RuntimeApiVersion:  v1"));

  // run: pod, container, start; prints the container id.
  auto run = Cri({"run", container_json_, pod_json_});
  ASSERT_TRUE(run.ok()) << run.status();
  const std::string id = Trimmed(*run);
  ASSERT_THAT(id, ContainsRegex("^[0-9a-f]{64}$"));

  auto pods = Cri({"pods", "--name", "^demo$", "--state", "ready", "-q"});
  ASSERT_TRUE(pods.ok()) << pods.status();
  const std::string pod_id = Trimmed(*pods);
  ASSERT_THAT(pod_id, ContainsRegex("^[0-9a-f]{64}$"));

  auto ps = Cri({"ps"});
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_THAT(*ps, ContainsRegex("CONTAINER +IMAGE +CREATED +STATE +NAME"));
  EXPECT_THAT(*ps, ContainsRegex(id.substr(0, 13) + " +docker.io/library/busybox:latest .* Running +hello +0 +" +
                                 pod_id.substr(0, 13) + " +demo"));
  auto ps_quiet = Cri({"ps", "-q", "--pod", pod_id.substr(0, 8)});
  ASSERT_TRUE(ps_quiet.ok()) << ps_quiet.status();
  EXPECT_EQ(Trimmed(*ps_quiet), id);

  // logs: stdout and stderr lines, without the CRI framing.
  std::string logs = WaitForLog(id, "to stderr");
  EXPECT_THAT(logs, HasSubstr("hello from berth-cri\n"));
  EXPECT_THAT(logs, Not(HasSubstr(" stdout F ")));
  auto tail = Cri({"logs", "--tail", "1", "-t", id});
  ASSERT_TRUE(tail.ok()) << tail.status();
  // The shim reads stdout and stderr apart: either line may be the last.
  EXPECT_THAT(*tail, ContainsRegex("^[0-9T:.-]+Z (hello from berth-cri|to stderr)\n$"));

  // exec: output, and the command's exit code as berth-cri's.
  auto exec = Cri({"exec", id.substr(0, 12), "echo", "-n", "hi"});
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(*exec, "hi");
  auto failing = Cri({"exec", id, "sh", "-c", "echo out; exit 3"});
  ASSERT_FALSE(failing.ok());
  EXPECT_THAT(std::string(failing.status().message()), HasSubstr("exit status 3"));
  EXPECT_THAT(std::string(failing.status().message()), HasSubstr("out"));

  auto inspect = Cri({"inspect", id});
  ASSERT_TRUE(inspect.ok()) << inspect.status();
  EXPECT_THAT(*inspect, HasSubstr("\"state\": \"CONTAINER_RUNNING\""));
  EXPECT_THAT(*inspect, HasSubstr("/hello/0.log"));

  // create + start a container that exits: logs -f returns once it has.
  auto created = Cri({"create", pod_id, short_json_, pod_json_});
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string short_id = Trimmed(*created);
  auto started = Cri({"start", short_id});
  ASSERT_TRUE(started.ok()) << started.status();
  auto follow = Cri({"logs", "-f", short_id}, absl::Seconds(30));
  ASSERT_TRUE(follow.ok()) << follow.status();
  EXPECT_EQ(*follow, "one\ntwo\n");

  // stopp, then everything is exited; rmp, then nothing is left.
  auto stopp = Cri({"stopp", pod_id});
  ASSERT_TRUE(stopp.ok()) << stopp.status();
  EXPECT_EQ(*stopp, "Stopped sandbox " + pod_id + "\n");
  auto running = Cri({"ps", "-q"});
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(Trimmed(*running), "");
  auto exited = Cri({"ps", "-a", "--state", "exited", "-q"});
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_THAT(*exited, HasSubstr(id));
  auto notready = Cri({"pods", "--state", "notready", "-q"});
  ASSERT_TRUE(notready.ok()) << notready.status();
  EXPECT_EQ(Trimmed(*notready), pod_id);
  auto rmp = Cri({"rmp", pod_id});
  ASSERT_TRUE(rmp.ok()) << rmp.status();
  EXPECT_EQ(*rmp, "Removed sandbox " + pod_id + "\n");
  auto none = Cri({"pods", "-q"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(Trimmed(*none), "");
  auto no_containers = Cri({"ps", "-a", "-q"});
  ASSERT_TRUE(no_containers.ok()) << no_containers.status();
  EXPECT_EQ(Trimmed(*no_containers), "");
}

TEST_F(BerthCriE2eTest, ErrorsCarryTheRuntimesMessage) {
  auto missing = Cri({"inspect", "0000000000000000deadbeef"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("exit status 1"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("berth-cri inspect: ContainerStatus: "));

  auto bad_file = Cri({"runp", runtime_->root() + "/no-such.json"});
  ASSERT_FALSE(bad_file.ok());
  EXPECT_THAT(std::string(bad_file.status().message()), HasSubstr("no-such.json"));

  auto usage = Cri({"create", "only-one-arg"});
  ASSERT_FALSE(usage.ok());
  EXPECT_THAT(std::string(usage.status().message()), HasSubstr("exit status 2"));
}

}  // namespace
}  // namespace berth::cri_cli
