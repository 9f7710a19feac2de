// berth-agent's image service as a person at the node uses it: `images
// resolve` with a registry config file, `images check [--repair]` on a
// damaged store, and the airgap import directory of a serving agent, seen
// through the CRI socket.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "e2e/cri_client.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/test_archive.h"

#ifndef BERTH_AGENT_PATH
#define BERTH_AGENT_PATH ""
#endif

namespace berth {
namespace {

using image::testing::File;
using image::testing::TestImage;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs berth-agent with `args` (bounded by timeout(1)), capturing its output.
Result Agent(const std::vector<std::string>& args) {
  std::string cmd = absl::StrCat("timeout 120 ", BERTH_AGENT_PATH);
  for (const std::string& a : args) absl::StrAppend(&cmd, " '", a, "'");
  absl::StrAppend(&cmd, " 2>&1");
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TestImage ImageOf(int n) {
  TestImage image;
  for (int i = 0; i < n; ++i) {
    auto layer = image::testing::MakeLayer({File(absl::StrCat("f", i), absl::StrCat("layer ", i, "\n"))});
    EXPECT_TRUE(layer.ok());
    image.layers.push_back(*layer);
  }
  return image;
}

class ImagesAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(BERTH_AGENT_PATH).empty()) GTEST_SKIP() << "berth-agent was not built";
    char t[] = "/tmp/berth-images-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    root_ = t;
    state_ = root_ + "/state";
  }
  void TearDown() override {
    StopAgent();
    if (!root_.empty()) {
      // The cgroup parent the agent made for this test, in every hierarchy.
      std::string parent = "/berth-images-e2e-" + root_.substr(root_.rfind('-') + 1);
      for (const char* hierarchy : {"", "/cpu", "/cpuacct", "/cpu,cpuacct", "/memory", "/pids", "/cpuset",
                                    "/blkio", "/devices", "/freezer", "/hugetlb", "/systemd"}) {
        ::rmdir(absl::StrCat("/sys/fs/cgroup", hierarchy, parent).c_str());
      }
      (void)RemoveAll(root_);
    }
  }

  std::vector<std::string> StoreFlags() { return {"--state-dir", state_}; }

  // Serves CRI with the import dir; waits until it answers.
  void StartAgent() {
    std::string endpoint = Endpoint();
    std::vector<std::string> args = {BERTH_AGENT_PATH,
                                     "--listen", endpoint,
                                     "--state-dir", state_,
                                     "--run-dir", root_ + "/run",
                                     "--cgroup-parent", "/berth-images-e2e-" + root_.substr(root_.rfind('-') + 1),
                                     "--cni-conf-dir", root_ + "/net.d",
                                     "--registry-config", root_ + "/none.yaml",
                                     "--image-import-dir", root_ + "/import"};
    ASSERT_TRUE(MkdirAll(root_ + "/net.d").ok());
    ASSERT_TRUE(AtomicWriteFile(root_ + "/none.yaml", "registries: {}\n").ok());
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::setsid();
      int log = ::open((root_ + "/agent.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    e2e::CriClient client(endpoint);
    absl::Status ready = client.WaitForReady(absl::Seconds(30));
    ASSERT_TRUE(ready.ok()) << ready << "\n" << ReadFile(root_ + "/agent.log").value_or("");
  }

  void StopAgent() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  std::string Endpoint() { return "unix://" + root_ + "/run/berth.sock"; }

  // Polls ImageStatus (CRI has no image events) until the image is there.
  bool WaitForImage(const std::string& ref) {
    e2e::CriClient client(Endpoint());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = client.ImageStatus(ref);
      if (status.ok() && status->has_image()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void Drop(const std::string& name, const absl::StatusOr<std::string>& archive) {
    ASSERT_TRUE(archive.ok()) << archive.status();
    ASSERT_TRUE(image::testing::WriteBytes(root_ + "/" + name, *archive).ok());
    ASSERT_EQ(::rename((root_ + "/" + name).c_str(), (root_ + "/import/" + name).c_str()), 0);
  }

  std::string root_, state_;
  pid_t pid_ = -1;
};

TEST_F(ImagesAgentTest, ResolvePrintsTheEndpointsInOrder) {
  std::string config = root_ + "/registries.yaml";
  ASSERT_TRUE(AtomicWriteFile(config, R"(registries:
  docker.io:
    mirrors: ["https://mirror-a.example", "mirror-b.example:5000"]
  mirror-b.example:5000:
    insecure: true
)").ok());
  Result r = Agent({"images", "resolve", "busybox", "--registry-config", config});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Lines(r.output), (std::vector<std::string>{
                                 "https://mirror-a.example/v2/library/busybox/manifests/latest",
                                 "http://mirror-b.example:5000/v2/library/busybox/manifests/latest",
                                 "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
                             }));
  // --insecure-registry is merged into the file's settings.
  r = Agent({"images", "resolve", "registry.local:5000/app:1", "--registry-config", config, "--insecure-registry",
             "registry.local:5000"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Lines(r.output), std::vector<std::string>{"http://registry.local:5000/v2/app/manifests/1"});

  // Bad config: the error names the key and the value; a missing file given by flag is an error.
  ASSERT_TRUE(AtomicWriteFile(config, "registries:\n  docker.io:\n    insecure: maybe\n").ok());
  r = Agent({"images", "resolve", "busybox", "--registry-config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("registries.docker.io.insecure"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("maybe"), std::string::npos) << r.output;
  r = Agent({"images", "resolve", "busybox", "--registry-config", root_ + "/absent.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("absent.yaml"), std::string::npos) << r.output;
  r = Agent({"images", "resolve", "Bad::Ref"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST_F(ImagesAgentTest, CheckFindsAndRepairsADamagedStore) {
  TestImage app = ImageOf(2);
  auto archive = image::testing::MakeOciArchive({{"example.com/app:1", app}, {"example.com/lib:1", ImageOf(1)}});
  ASSERT_TRUE(archive.ok());
  ASSERT_TRUE(image::testing::WriteBytes(root_ + "/images.tar", *archive).ok());
  std::vector<std::string> args = {"images", "import", root_ + "/images.tar"};
  for (const std::string& f : StoreFlags()) args.push_back(f);
  Result r = Agent(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  Result clean = Agent({"images", "check", "--state-dir", state_});
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(clean.output.find("0 problems found"), std::string::npos) << clean.output;

  // Damage: an orphaned blob, a leftover, and app's top layer blob corrupted.
  std::string store = state_ + "/images";
  ASSERT_TRUE(AtomicWriteFile(absl::StrCat(store, "/blobs/sha256/", std::string(64, 'a')), "orphan").ok());
  ASSERT_TRUE(MkdirAll(store + "/tmp/pull-crashed").ok());
  std::string top = image::Sha256Digest(app.layers[1].blob).substr(7);
  ASSERT_TRUE(AtomicWriteFile(absl::StrCat(store, "/blobs/sha256/", top), "bit rot").ok());

  Result found = Agent({"images", "check", "--state-dir", state_});
  EXPECT_EQ(found.exit_code, 1) << found.output;
  std::string out = found.output;
  EXPECT_NE(out.find("leftover " + store + "/tmp/pull-crashed"), std::string::npos) << out;
  EXPECT_NE(out.find("corrupt-blob " + store + "/blobs/sha256/" + top), std::string::npos) << out;
  EXPECT_NE(out.find("invalid-record"), std::string::npos) << out;
  EXPECT_NE(out.find("example.com/app:1"), std::string::npos) << out;
  EXPECT_NE(out.find("orphaned-blob " + store + "/blobs/sha256/" + std::string(64, 'a')), std::string::npos) << out;

  Result repaired = Agent({"images", "check", "--repair", "--state-dir", state_});
  EXPECT_EQ(repaired.exit_code, 0) << repaired.output;
  EXPECT_NE(repaired.output.find("0 remain"), std::string::npos) << repaired.output;
  Result again = Agent({"images", "check", "--state-dir", state_});
  EXPECT_EQ(again.exit_code, 0) << again.output;

  Result list = Agent({"images", "list", "--state-dir", state_});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output.find("example.com/app:1"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("example.com/lib:1"), std::string::npos) << list.output;

  // rm by tag, then the store is empty and still clean.
  Result rm = Agent({"images", "rm", "example.com/lib:1", "--state-dir", state_});
  EXPECT_EQ(rm.exit_code, 0) << rm.output;
  EXPECT_EQ(Agent({"images", "check", "--state-dir", state_}).exit_code, 0);
  EXPECT_EQ(Agent({"images", "list", "--repair", "--state-dir", state_}).exit_code, 2);
}

TEST_F(ImagesAgentTest, ServingAgentImportsArchivesDroppedIntoTheImportDirOnce) {
  ASSERT_TRUE(MkdirAll(root_ + "/import").ok());
  Drop("first.tar", image::testing::MakeOciArchive({{"example.com/first:1", ImageOf(1)}}));
  StartAgent();
  EXPECT_TRUE(WaitForImage("example.com/first:1")) << ReadFile(root_ + "/agent.log").value_or("");
  Drop("second.tar", image::testing::MakeDockerArchive({{{"example.com/second:1"}, ImageOf(2)}}));
  EXPECT_TRUE(WaitForImage("example.com/second:1")) << ReadFile(root_ + "/agent.log").value_or("");
  Drop("broken.tar", std::string("not an archive"));

  // Restarted: nothing imported again (the ledger), the new archive is.
  StopAgent();
  StartAgent();
  Drop("third.tar", image::testing::MakeOciArchive({{"example.com/third:1", ImageOf(3)}}));
  EXPECT_TRUE(WaitForImage("example.com/third:1"));
  std::string log = ReadFile(root_ + "/agent.log").value_or("");
  int first_imports = 0, broken_failures = 0;
  for (const std::string& line : Lines(log)) {
    if (absl::StrContains(line, "importing image archive") && absl::StrContains(line, "first.tar")) ++first_imports;
    if (absl::StrContains(line, "import failed") && absl::StrContains(line, "broken.tar")) ++broken_failures;
  }
  EXPECT_EQ(first_imports, 1) << log;
  EXPECT_EQ(broken_failures, 1) << log;
  EXPECT_TRUE(PathExists(root_ + "/import/broken.tar"));
  e2e::CriClient client(Endpoint());
  auto first = client.ImageStatus("example.com/first:1");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->has_image());
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

// `images export` writes an OCI archive that `images import` takes back into
// another store: same image id and name.
TEST_F(ImagesAgentTest, ExportedArchiveImportsIntoAnotherStore) {
  auto archive = image::testing::MakeOciArchive({{"example.com/app:1", ImageOf(2)}});
  ASSERT_TRUE(archive.ok());
  ASSERT_TRUE(image::testing::WriteBytes(root_ + "/in.tar", *archive).ok());
  Result imported = Agent({"images", "import", root_ + "/in.tar", "--state-dir", state_});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  Result listed = Agent({"images", "list", "--state-dir", state_});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;

  Result exported = Agent({"images", "export", "example.com/app:1", "-o", root_ + "/out.tar", "--state-dir", state_});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::string other = root_ + "/other-state";
  Result again = Agent({"images", "import", root_ + "/out.tar", "--state-dir", other});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  Result other_list = Agent({"images", "list", "--state-dir", other});
  ASSERT_EQ(other_list.exit_code, 0) << other_list.output;
  EXPECT_EQ(other_list.output, listed.output);

  Result missing = Agent({"images", "export", "example.com/nope:1", "-o", root_ + "/none.tar", "--state-dir", state_});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("example.com/nope:1"), std::string::npos) << missing.output;
  EXPECT_FALSE(PathExists(root_ + "/none.tar"));
}

}  // namespace
}  // namespace berth
