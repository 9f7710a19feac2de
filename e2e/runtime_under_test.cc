#include "e2e/runtime_under_test.h"

#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "e2e/cri_client.h"

#ifndef BERTH_AGENT_PATH
#define BERTH_AGENT_PATH ""
#endif
#ifndef BERTH_SHIM_PATH
#define BERTH_SHIM_PATH ""
#endif

namespace berth::e2e {
namespace {

void KeepFirstError(absl::Status& first, const absl::Status& next) {
  if (first.ok() && !next.ok()) first = next;
}

bool PidAlive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Kills every process (but this one) whose command line contains `needle`.
void KillProcessesNaming(const std::string& needle) {
  auto entries = ListDir("/proc");
  if (!entries.ok()) return;
  std::vector<pid_t> killed;
  for (const std::string& name : *entries) {
    int pid = 0;
    if (!absl::SimpleAtoi(name, &pid) || pid == getpid()) continue;
    auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (!cmdline.ok() || cmdline->find(needle) == std::string::npos) continue;
    if (kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  for (pid_t pid : killed) (void)WaitForPidExit(pid, absl::Seconds(5));
}

// Mount points from /proc/self/mountinfo, with "\040"-style escapes undone.
std::vector<std::string> MountPoints() {
  std::vector<std::string> points;
  auto info = ReadFile("/proc/self/mountinfo");
  if (!info.ok()) return points;
  for (absl::string_view line : absl::StrSplit(*info, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    std::string point;
    absl::string_view raw = fields[4];
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 3 < raw.size()) {
        point.push_back(static_cast<char>((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 +
                                          (raw[i + 3] - '0')));
        i += 3;
      } else {
        point.push_back(raw[i]);
      }
    }
    points.push_back(point);
  }
  return points;
}

// Cgroup hierarchy roots: each v1 controller mount and the v2 (unified) one.
std::vector<std::string> CgroupHierarchies() {
  std::vector<std::string> roots;
  if (PathExists("/sys/fs/cgroup/cgroup.procs")) roots.push_back("/sys/fs/cgroup");
  auto entries = ListDir("/sys/fs/cgroup");
  if (!entries.ok()) return roots;
  for (const std::string& name : *entries) {
    std::string dir = "/sys/fs/cgroup/" + name;
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;  // skip cpu,cpuacct links
    if (PathExists(dir + "/cgroup.procs")) roots.push_back(dir);
  }
  return roots;
}

absl::Status RemoveCgroupDir(const std::string& dir) {
  auto entries = ListDir(dir);
  if (!entries.ok()) return absl::OkStatus();  // already gone
  absl::Status first;
  for (const std::string& name : *entries) {
    std::string child = dir + "/" + name;
    struct stat st;
    if (lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      KeepFirstError(first, RemoveCgroupDir(child));
    }
  }
  // A cgroup v1 directory gives no event when its last process is gone:
  // kill and retry toward a deadline.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    if (auto procs = ReadFile(dir + "/cgroup.procs"); procs.ok()) {
      for (absl::string_view line : absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
        int pid = 0;
        if (absl::SimpleAtoi(line, &pid)) kill(pid, SIGKILL);
      }
    }
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return first;
    if (errno != EBUSY || absl::Now() >= deadline) {
      KeepFirstError(first, ErrnoError(absl::StrCat("rmdir ", dir)));
      return first;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string Getenv(const char* name) {
  const char* value = getenv(name);
  return value == nullptr ? "" : value;
}

// The pid on the last non-empty line of `output`.
absl::StatusOr<pid_t> LastLinePid(const std::string& output) {
  std::vector<absl::string_view> lines = absl::StrSplit(output, '\n', absl::SkipWhitespace());
  int pid = 0;
  if (lines.empty() || !absl::SimpleAtoi(lines.back(), &pid) || pid <= 0) {
    return absl::InternalError(absl::StrCat("expected a pid on the last line of: ", output));
  }
  return pid;
}

class BerthAgentRuntime : public RuntimeUnderTest {
 public:
  std::string name() const override { return "berth"; }
  std::string socket_path() const override { return root_ + "/run/berth.sock"; }

  absl::Status Start(const std::vector<std::string>& image_archives) override {
    if (std::string(BERTH_AGENT_PATH).empty()) {
      return absl::FailedPreconditionError(
          "berth-agent was not built (no CMake target berth-agent); "
          "set BERTH_E2E_RUNTIME=containerd to run against containerd");
    }
    RETURN_IF_ERROR(MakeRoot("berth-e2e"));
    RETURN_IF_ERROR(MkdirAll(root_ + "/state"));
    RETURN_IF_ERROR(MkdirAll(root_ + "/run"));
    // An empty CNI config dir of its own: the host's /etc/cni/net.d must never
    // attach test pods to the machine's network.
    RETURN_IF_ERROR(MkdirAll(root_ + "/net.d"));
    for (const std::string& archive : image_archives) {
      RETURN_IF_ERROR(RunCommand({BERTH_AGENT_PATH, "images", "import", archive, "--state-dir",
                                  root_ + "/state"},
                                 absl::Seconds(120))
                          .status());
    }
    return Restart();
  }

  absl::Status Restart() override {
    std::vector<std::string> args = {BERTH_AGENT_PATH,  "--listen",    endpoint(),
                                     "--state-dir",     root_ + "/state", "--run-dir",
                                     root_ + "/run",    "--cgroup-parent", cgroup_parent_,
                                     "--cni-conf-dir",  root_ + "/net.d"};
    // The device manager's kubelet.sock under this test's root, not the
    // host's /var/lib/kubelet (a test's own --device-plugins-dir wins: later).
    args.insert(args.end(), {"--device-plugins-dir", root_ + "/device-plugins"});
    // Nor the host's static pods, pod logs or :10248 (two tests run at once
    // under ctest -j2); the agent tests pass their own (later flags win).
    args.insert(args.end(), {"--pod-manifest-path", root_ + "/manifests", "--pod-logs-dir", root_ + "/pod-logs",
                             "--healthz-port", "0"});
    args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
    if (!cni_bin_dir_.empty()) {
      args.push_back("--cni-bin-dir");
      args.push_back(cni_bin_dir_);
    }
    int netns_fd = -1;
    if (!host_netns_.empty()) {
      netns_fd = open(("/run/netns/" + host_netns_).c_str(), O_RDONLY | O_CLOEXEC);
      if (netns_fd < 0) return ErrnoError("open /run/netns/" + host_netns_);
    }
    if (!std::string(BERTH_SHIM_PATH).empty()) {
      args.push_back("--shim");
      args.push_back(BERTH_SHIM_PATH);
    }
    std::string log_path = root_ + "/agent.log";
    pid_t pid = fork();
    if (pid < 0) return ErrnoError("fork");
    if (pid == 0) {
      setsid();
      // Only the net namespace: `ip netns exec` would remount /sys and hide
      // the cgroup mounts from the agent.
      if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) _exit(126);
      int null_fd = open("/dev/null", O_RDONLY);
      int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (null_fd < 0 || log_fd < 0) _exit(127);
      dup2(null_fd, 0);
      dup2(log_fd, 1);
      dup2(log_fd, 2);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (netns_fd >= 0) close(netns_fd);
    main_pid_ = pid;
    CriClient client(endpoint());
    absl::Status ready = client.WaitForReady(absl::Seconds(30));
    if (!ready.ok()) {
      auto log = ReadFile(log_path);
      return Annotate(ready, absl::StrCat("berth-agent did not answer; log:\n",
                                          log.ok() ? *log : "(none)"));
    }
    return absl::OkStatus();
  }

  absl::Status KillMainProcess() override {
    if (main_pid_ <= 0) return absl::FailedPreconditionError("berth-agent not started");
    if (kill(main_pid_, SIGKILL) != 0) return ErrnoError("kill berth-agent");
    waitpid(main_pid_, nullptr, 0);
    main_pid_ = -1;
    return absl::OkStatus();
  }

  absl::Status Stop() override {
    if (root_.empty()) return absl::OkStatus();
    absl::Status first;
    if (PidAlive(main_pid_)) {
      RemoveAllPods();
      kill(main_pid_, SIGTERM);
      if (!WaitForPidExit(main_pid_, absl::Seconds(15)).ok()) {
        KeepFirstError(first, absl::DeadlineExceededError("berth-agent ignored SIGTERM for 15 s"));
        kill(main_pid_, SIGKILL);
      }
      int status = 0;
      if (waitpid(main_pid_, &status, 0) == main_pid_) ReportCrash(status);
    }
    main_pid_ = -1;
    KeepFirstError(first, CleanUpAfterRuntime());
    if (!host_netns_.empty()) {
      KeepFirstError(first, RunCommand({"ip", "netns", "del", host_netns_}, absl::Seconds(30)).status());
      host_netns_.clear();
    }
    return first;
  }

  absl::Status UsePodNetwork(const std::string& conflist, const std::string& bin_dir) override {
    if (host_netns_.empty()) {
      static int counter = 0;
      std::string name = absl::StrCat("berth-e2e-", getpid(), "-", ++counter);
      RETURN_IF_ERROR(RunCommand({"ip", "netns", "add", name}, absl::Seconds(30)).status());
      host_netns_ = name;
      RETURN_IF_ERROR(RunCommand({"ip", "-n", name, "link", "set", "lo", "up"}, absl::Seconds(30)).status());
    }
    cni_bin_dir_ = bin_dir;
    return AtomicWriteFile(root_ + "/net.d/10-e2e.conflist", conflist);
  }

  std::string LogTail(size_t max_bytes) const override {
    std::string log = ReadFile(root_ + "/agent.log").value_or("(no log)");
    return log.size() > max_bytes ? log.substr(log.size() - max_bytes) : log;
  }

 private:
  // A berth-agent that ended other than by Stop's SIGTERM (a crash, often
  // before Stop was called) is worth seeing: the end of its log goes to
  // stderr before the root is removed.
  void ReportCrash(int status) const {
    const bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                       (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL));
    if (clean) return;
    fprintf(stderr, "berth-agent ended with %s %d; the end of its log:\n%s\n",
            WIFSIGNALED(status) ? "signal" : "exit code", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
            LogTail(8000).c_str());
  }

  std::string cni_bin_dir_;
};

class ContainerdRuntime : public RuntimeUnderTest {
 public:
  std::string name() const override { return "containerd"; }
  std::string socket_path() const override { return root_ + "/containerd.sock"; }

  absl::Status Start(const std::vector<std::string>& image_archives) override {
    RETURN_IF_ERROR(MakeRoot("berth-e2e-ctrd"));
    return Up({"IMAGES=" + absl::StrJoin(image_archives, " ")});
  }

  absl::Status Restart() override { return Up({"IMAGES="}); }

  absl::Status KillMainProcess() override {
    if (main_pid_ <= 0) return absl::FailedPreconditionError("containerd not started");
    if (kill(main_pid_, SIGKILL) != 0) return ErrnoError("kill containerd");
    RETURN_IF_ERROR(WaitForPidExit(main_pid_, absl::Seconds(10)));
    main_pid_ = -1;
    return absl::OkStatus();
  }

  absl::Status Stop() override {
    if (root_.empty()) return absl::OkStatus();
    absl::Status first;
    if (PidAlive(main_pid_)) RemoveAllPods();
    KeepFirstError(first, RunCommand({Script(), "--stop", root_}, absl::Seconds(60)).status());
    main_pid_ = -1;
    KeepFirstError(first, CleanUpAfterRuntime());
    return first;
  }

 private:
  static std::string Script() { return SourceDir() + "/hack/containerd-up.sh"; }

  absl::Status Up(const std::vector<std::string>& env) {
    ASSIGN_OR_RETURN(std::string output, RunCommand({Script(), root_}, absl::Seconds(120), env));
    ASSIGN_OR_RETURN(main_pid_, LastLinePid(output));
    CriClient client(endpoint());
    return client.WaitForReady(absl::Seconds(30));
  }
};

}  // namespace

std::unique_ptr<RuntimeUnderTest> RuntimeUnderTest::FromEnv() {
  std::string which = Getenv("BERTH_E2E_RUNTIME");
  if (which == "containerd") return std::make_unique<ContainerdRuntime>();
  return std::make_unique<BerthAgentRuntime>();
}

absl::Status RuntimeUnderTest::MakeRoot(const std::string& prefix) {
  std::string tmp = Getenv("TMPDIR").empty() ? "/tmp" : Getenv("TMPDIR");
  std::string pattern = tmp + "/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return ErrnoError("mkdtemp " + pattern);
  root_ = pattern;
  cgroup_parent_ = "/" + prefix + "-" + root_.substr(root_.size() - 6);
  return absl::OkStatus();
}

void RuntimeUnderTest::RemoveAllPods() {
  CriClient client(endpoint());
  client.set_call_timeout(absl::Seconds(10));
  if (auto containers = client.ListContainers(); containers.ok()) {
    for (const auto& container : *containers) {
      (void)client.StopContainer(container.id(), 0);
      (void)client.RemoveContainer(container.id());
    }
  }
  if (auto pods = client.ListPodSandbox(); pods.ok()) {
    for (const auto& pod : *pods) {
      (void)client.StopPodSandbox(pod.id());
      (void)client.RemovePodSandbox(pod.id());
    }
  }
}

absl::Status RuntimeUnderTest::CleanUpAfterRuntime() {
  absl::Status first;
  // Shims and anything else started with our paths in its arguments.
  KillProcessesNaming(root_ + "/");
  KeepFirstError(first, RemoveCgroupTree(cgroup_parent_));
  KeepFirstError(first, UnmountUnder(root_));
  KeepFirstError(first, RemoveAll(root_));
  return first;
}

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       absl::Duration timeout,
                                       const std::vector<std::string>& extra_env) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const std::string& extra : extra_env) env.push_back(extra);
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    std::vector<char*> args, envp;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string output;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  while (true) {
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {pipe_fds[0], POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char buf[4096];
    ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    output.append(buf, n);
  }
  close(pipe_fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  std::string what = absl::StrJoin(argv, " ");
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": still running after ",
                                                    absl::FormatDuration(timeout), "; output:\n",
                                                    output));
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::InternalError(absl::StrCat(what, ": exit status ",
                                            WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1,
                                            "; output:\n", output));
  }
  return output;
}

absl::Status WaitForPidExit(pid_t pid, absl::Duration timeout) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return absl::OkStatus();
    return ErrnoError(absl::StrCat("pidfd_open ", pid));
  }
  struct pollfd pfd = {fd, POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  } while (ready < 0 && errno == EINTR);
  close(fd);
  if (ready <= 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", pid, " still running after ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

absl::Status RemoveCgroupTree(const std::string& path) {
  if (path.empty() || path == "/") return absl::InvalidArgumentError("refusing the root cgroup");
  absl::Status first;
  for (const std::string& hierarchy : CgroupHierarchies()) {
    KeepFirstError(first, RemoveCgroupDir(hierarchy + path));
  }
  return first;
}

absl::Status UnmountUnder(const std::string& dir) {
  std::vector<std::string> points;
  for (const std::string& point : MountPoints()) {
    if (point == dir || absl::StartsWith(point, dir + "/")) points.push_back(point);
  }
  std::sort(points.begin(), points.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  absl::Status first;
  for (const std::string& point : points) {
    if (umount2(point.c_str(), 0) == 0 || errno == EINVAL || errno == ENOENT) continue;
    if (umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      KeepFirstError(first, ErrnoError("umount " + point));
    }
  }
  return first;
}

std::string SourceDir() { return BERTH_SOURCE_DIR; }

}  // namespace berth::e2e
