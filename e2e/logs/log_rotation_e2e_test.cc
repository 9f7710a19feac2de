// Container log rotation end to end: berth-agent with containerLogMaxSize=1Mi
// and containerLogMaxFiles=3, a container writing numbered lines fast, and
// `berth-agent logs -f` following it across the shim's rotations. Against
// berth only (containerd rotates in the kubelet, not in its shim).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "common/time.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

constexpr int64_t kMaxSize = 1 << 20;
constexpr int kMaxFiles = 3;
constexpr int kLines = 60000;

// `berth-agent logs ...` with its stdout on a pipe; killed when destroyed.
class LogsProcess {
 public:
  static absl::StatusOr<std::unique_ptr<LogsProcess>> Start(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(BERTH_AGENT_PATH));
      argv.push_back(const_cast<char*>("logs"));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(BERTH_AGENT_PATH, argv.data());
      _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
      close(fds[0]);
      return absl::InternalError("fork");
    }
    auto p = std::make_unique<LogsProcess>();
    p->pid_ = pid;
    p->out_ = fds[0];
    return p;
  }
  ~LogsProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  // Reads until the output contains `want`, calling `each` between reads.
  absl::Status ReadUntil(const std::string& want, absl::Duration timeout, const std::function<void()>& each = {}) {
    int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
    while (!absl::StrContains(output_, want)) {
      int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
      if (left_ms <= 0) {
        return absl::DeadlineExceededError(absl::StrCat("no \"", want, "\" after ", output_.size(), " bytes"));
      }
      struct pollfd p = {out_, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 100)));
      if (p.revents != 0) {
        char buf[65536];
        ssize_t n = read(out_, buf, sizeof(buf));
        if (n <= 0) return absl::UnavailableError(absl::StrCat("logs exited; output: ", output_.substr(0, 500)));
        output_.append(buf, static_cast<size_t>(n));
      }
      if (each) each();
    }
    return absl::OkStatus();
  }
  // Waits (at most `timeout`) for the process to exit on its own, reading its output.
  absl::StatusOr<int> Wait(absl::Duration timeout = absl::Seconds(30)) {
    int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
    char buf[65536];
    for (;;) {
      int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
      if (left_ms <= 0) return absl::DeadlineExceededError(absl::StrCat("logs did not exit; output: ", output_));
      struct pollfd p = {out_, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 100)));
      ssize_t n = p.revents != 0 ? read(out_, buf, sizeof(buf)) : -1;
      if (n > 0) {
        output_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) break;  // its stdout closed: it is exiting
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError("waitpid");
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

// The log files of a container dir: name -> size.
std::map<std::string, int64_t> LogFiles(const std::string& dir) {
  std::map<std::string, int64_t> files;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return files;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!absl::StartsWith(name, "0.log")) continue;
    struct stat st = {};
    if (stat((dir + "/" + name).c_str(), &st) == 0) files[name] = st.st_size;
  }
  closedir(d);
  return files;
}

// Distinct log files: X and X.gz (while the helper swaps them) are one.
std::set<std::string> Keys(const std::map<std::string, int64_t>& files) {
  std::set<std::string> keys;
  for (const auto& [name, size] : files) {
    absl::string_view key = name;
    absl::ConsumeSuffix(&key, ".gz");
    keys.insert(std::string(key));
  }
  return keys;
}

// `output` is "ready", then "line 0 ..." to "line <count-1> ...", each once
// and in order, then `last`.
void ExpectNumberedLines(const std::string& output, int count, const std::string& last) {
  std::vector<std::string> lines = absl::StrSplit(output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), static_cast<size_t>(count + 2))
      << "first: " << (lines.empty() ? "" : lines.front()) << " last: " << (lines.empty() ? "" : lines.back());
  EXPECT_EQ(lines.front(), "ready");
  EXPECT_EQ(lines.back(), last);
  int wrong = 0;
  for (int i = 0; i < count; ++i) {
    if (!absl::StartsWith(lines[i + 1], absl::StrCat("line ", i, " ")) && wrong++ < 5) {
      ADD_FAILURE() << "line " << i + 1 << " is \"" << lines[i + 1] << "\"";
    }
  }
  EXPECT_EQ(wrong, 0);
}

class LogRotationE2eTest : public CriE2eTest {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (IsContainerd()) GTEST_SKIP() << "containerd's shim does not rotate logs";
    runtime_->set_extra_flags({absl::StrCat("--container-log-max-size=", kMaxSize, ""),
                               absl::StrCat("--container-log-max-files=", kMaxFiles)});
    E2E_ASSERT_OK(runtime_->KillMainProcess());
    E2E_ASSERT_OK(runtime_->Restart());
  }

  // A running container of `script`; sets pod_, config_ and returns its id.
  std::string Start(const std::string& name, const std::string& script) {
    pod_ = PodConfig(name);
    auto pod_id = client_->RunPodSandbox(pod_);
    EXPECT_TRUE(pod_id.ok()) << pod_id.status();
    if (!pod_id.ok()) return "";
    pod_id_ = *pod_id;
    config_ = MinimalContainerConfig("writer", kBusybox, {"sh", "-c", script});
    config_.set_log_path("writer/0.log");
    auto id = CreateAndStart(*pod_id, pod_, config_);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }

  absl::Status WaitForLog(const std::string& want) {
    int64_t deadline = MonotonicNanos() + int64_t{20} * 1000000000;
    while (MonotonicNanos() < deadline) {
      if (absl::StrContains(ReadFile(LogPath(pod_, config_)).value_or(""), want)) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError(absl::StrCat("\"", want, "\" not in ", LogPath(pod_, config_)));
  }

  std::string LogDir() const {
    std::string path = LogPath(pod_, config_);
    return path.substr(0, path.rfind('/'));
  }
  std::string PodLogsDir() const { return runtime_->root() + "/logs"; }

  std::string StateDir() const { return runtime_->root() + "/state"; }

  std::string pod_id_;
  v1::PodSandboxConfig pod_;
  v1::ContainerConfig config_;
};

TEST_F(LogRotationE2eTest, FastWriterStaysUnderLimitAndFollowSeesEveryLineOnce) {
  // The writer waits on a fifo so that the follower starts before any rotation.
  std::string id = Start("rotate", absl::StrCat("mkfifo /tmp/go; echo ready; cat /tmp/go >/dev/null; i=0; "
                                                "while [ $i -lt ", kLines, " ]; do echo \"line $i "
                                                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\"; "
                                                "i=$((i+1)); done; echo done; exec sleep 3600"));
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK(WaitForLog(" stdout F ready\n"));
  E2E_ASSERT_OK_AND_ASSIGN(auto follow,
                           LogsProcess::Start({"rotate", "-f", "-c", "writer", "--pod-logs-dir", PodLogsDir()}));
  E2E_ASSERT_OK(follow->ReadUntil("ready\n", absl::Seconds(20)));
  E2E_ASSERT_OK(client_->ExecSync(id, {"sh", "-c", "echo go > /tmp/go"}, 10));

  // While it writes: no file over the limit, never more than MaxFiles files.
  int64_t biggest = 0;
  size_t most_files = 0;
  const std::string dir = LogDir();
  auto sample = [&] {
    auto files = LogFiles(dir);
    for (const auto& [name, size] : files) biggest = std::max(biggest, size);
    most_files = std::max(most_files, Keys(files).size());
  };
  E2E_ASSERT_OK(follow->ReadUntil("\ndone\n", absl::Seconds(120), sample));
  sample();
  EXPECT_LE(biggest, kMaxSize);
  EXPECT_LE(most_files, static_cast<size_t>(kMaxFiles));

  // Every line exactly once, in order.
  ExpectNumberedLines(follow->output(), kLines, "done");

  // At the end: MaxFiles files, the older rotated one gzipped (the helper may
  // still be at work for a moment), the newest rotated one plain.
  int64_t deadline = MonotonicNanos() + int64_t{10} * 1000000000;
  std::map<std::string, int64_t> files;
  while (MonotonicNanos() < deadline) {
    files = LogFiles(dir);
    size_t gz = 0;
    for (const auto& [name, size] : files) gz += absl::EndsWith(name, ".gz");
    if (files.size() == static_cast<size_t>(kMaxFiles) && gz == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string listing;
  for (const auto& [name, size] : files) absl::StrAppend(&listing, name, " ", size, "; ");
  ASSERT_EQ(files.size(), static_cast<size_t>(kMaxFiles)) << listing;
  EXPECT_EQ(files.begin()->first, "0.log") << listing;
  // Rotation order is the name without ".gz" (two rotations in one second:
  // "0.log.<second>" then "0.log.<second>.<nanos>", and "<second>.gz" would
  // sort after "<second>.<nanos>" by the whole name).
  std::vector<std::pair<std::string, int64_t>> rotated(std::next(files.begin()), files.end());
  std::sort(rotated.begin(), rotated.end(), [](const auto& a, const auto& b) {
    return *Keys({{a.first, 0}}).begin() < *Keys({{b.first, 0}}).begin();
  });
  EXPECT_TRUE(absl::EndsWith(rotated[0].first, ".gz")) << listing;
  std::string gz = ReadFile(dir + "/" + rotated[0].first).value_or("");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_FALSE(absl::EndsWith(rotated[1].first, ".gz")) << listing;
  EXPECT_LE(rotated[1].second, kMaxSize);

  // Without -f: the live file's last messages.
  E2E_ASSERT_OK_AND_ASSIGN(auto tail, LogsProcess::Start({"rotate", "--tail", "2", "--pod-logs-dir", PodLogsDir()}));
  EXPECT_EQ(*tail->Wait(), 0);
  EXPECT_EQ(tail->output(), absl::StrCat("line ", kLines - 1,
                                         " abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\ndone\n"));
}

TEST_F(LogRotationE2eTest, FollowEndsWhenTheContainerExitsAndDoesNotMoveToItsRestart) {
  constexpr int kExitLines = 20000;  // about 1.3 MB: the log rotates on the way out
  std::string id = Start("restart", absl::StrCat("mkfifo /tmp/go; echo ready; cat /tmp/go >/dev/null; i=0; "
                                                 "while [ $i -lt ", kExitLines, " ]; do echo \"line $i "
                                                 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\"; "
                                                 "i=$((i+1)); done; echo last; exit 3"));
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK(WaitForLog(" stdout F ready\n"));
  E2E_ASSERT_OK_AND_ASSIGN(auto follow, LogsProcess::Start({"restart", "-f", "-c", "writer", "--pod-logs-dir",
                                                            PodLogsDir(), "--state-dir", StateDir()}));
  E2E_ASSERT_OK(follow->ReadUntil("ready\n", absl::Seconds(20)));

  // The next instance (as the kubelet's restart makes it: attempt 1, 1.log)
  // writes into the same dir while the follower is on 0.log.
  v1::ContainerConfig next = MinimalContainerConfig("writer", kBusybox, {"sh", "-c", "echo next-instance; exec sleep 3600"});
  next.mutable_metadata()->set_attempt(1);
  next.set_log_path("writer/1.log");
  E2E_ASSERT_OK(CreateAndStart(pod_id_, pod_, next).status());

  E2E_ASSERT_OK(client_->ExecSync(id, {"sh", "-c", "echo go > /tmp/go"}, 10));
  // The follower ends by itself once the container exits, with every line once.
  E2E_ASSERT_OK_AND_ASSIGN(int rc, follow->Wait(absl::Seconds(60)));
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(absl::StrContains(follow->output(), "next-instance")) << "followed into the restart's log";
  ExpectNumberedLines(follow->output(), kExitLines, "last");
  // It rotated on the way: the follower read across that.
  EXPECT_GE(LogFiles(LogDir()).size(), 2u);

  // A new follower takes the newest instance; --previous shows the exited one.
  E2E_ASSERT_OK_AND_ASSIGN(auto newest, LogsProcess::Start({"restart", "-f", "-c", "writer", "--pod-logs-dir",
                                                            PodLogsDir(), "--state-dir", StateDir()}));
  E2E_EXPECT_OK(newest->ReadUntil("next-instance\n", absl::Seconds(20)));
  E2E_ASSERT_OK_AND_ASSIGN(auto previous, LogsProcess::Start({"restart", "-p", "-c", "writer", "--tail", "1",
                                                              "--pod-logs-dir", PodLogsDir()}));
  EXPECT_EQ(*previous->Wait(), 0);
  EXPECT_EQ(previous->output(), "last\n");
}

TEST_F(LogRotationE2eTest, ReopenContainerLogAfterAnExternalRotation) {
  std::string id = Start("reopen", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK(WaitForLog("tick 1\n"));
  const std::string log = LogPath(pod_, config_);
  ASSERT_EQ(rename(log.c_str(), (log + ".moved").c_str()), 0);
  v1::ReopenContainerLogRequest req;
  req.set_container_id(id);
  v1::ReopenContainerLogResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(client_->runtime().ReopenContainerLog(&ctx, req, &resp).ok());
  E2E_ASSERT_OK(WaitForLog(" stdout F tick "));
  // The moved file stopped growing at the reopen; the new one goes on.
  std::string moved = ReadFile(log + ".moved").value_or("");
  std::string fresh = ReadFile(log).value_or("");
  EXPECT_FALSE(moved.empty());
  EXPECT_FALSE(absl::StrContains(fresh, "tick 0\n")) << fresh;
}

}  // namespace
}  // namespace berth::e2e
