// Starts the real berth-shim on a busybox rootfs in a temp dir and drives it
// over its ready pipe and control socket, as the runtime does.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <zlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/shim/attach_protocol.h"
#include "runtime-shim/shim/shim_client.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(10);

int ReadPidFile(const std::string& path) {
  auto text = ReadFile(path);
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid)) return -1;
  return pid;
}

// Blocks until `pid` (not necessarily our child) has exited.
bool WaitForProcessGone(int pid, int timeout_ms) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  struct pollfd p = {pidfd, POLLIN, 0};
  int n = ::poll(&p, 1, timeout_ms);
  ::close(pidfd);
  return n == 1;
}

// Blocks until the file at `path` contains `text` (its directory is watched).
bool WaitForFileContaining(const std::string& path, const std::string& text, int timeout_ms) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return false;
  ::inotify_add_watch(fd, path.substr(0, path.rfind('/')).c_str(),
                      IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  auto contains = [&] {
    auto content = ReadFile(path);
    return content.ok() && content->find(text) != std::string::npos;
  };
  bool found = contains();
  while (!found) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) break;
    char buf[4096];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
    found = contains();
  }
  ::close(fd);
  return found;
}

// The CRI log's lines as "<stream> <tag> <content>", checking each timestamp.
std::vector<std::string> LogEntries(const std::string& path) {
  std::vector<std::string> entries;
  auto log = ReadFile(path);
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return entries;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    EXPECT_EQ(fields.size(), 4u) << line;
    if (fields.size() != 4) continue;
    EXPECT_THAT(fields[0], ::testing::MatchesRegex("[0-9-]+T[0-9:]+\\.[0-9]{9}Z"));
    entries.push_back(absl::StrCat(fields[1], " ", fields[2], " ", fields[3]));
  }
  return entries;
}

// Blocks until `dir`/`name` exists (written by rename or create).
bool WaitForFile(const std::string& dir, const std::string& name, int timeout_ms) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return false;
  ::inotify_add_watch(fd, dir.c_str(), IN_MOVED_TO | IN_CREATE);
  bool found = PathExists(dir + "/" + name);
  while (!found) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) break;
    char buf[4096];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
    found = PathExists(dir + "/" + name);
  }
  ::close(fd);
  return found;
}

class ShimIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-shim-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    bundle_ = root_ + "/bundle";
    for (const char* dir : {"/lower/bin", "/upper", "/work", "/rootfs", "/bundle"}) {
      ASSERT_TRUE(MkdirAll(root_ + dir).ok());
    }
    auto busybox = ReadFile("/bin/busybox");
    ASSERT_TRUE(busybox.ok()) << busybox.status();
    ASSERT_TRUE(AtomicWriteFile(root_ + "/lower/bin/busybox", *busybox, 0755, false).ok());
    for (const char* tool :
         {"sh", "echo", "cat", "sleep", "id", "ls", "hostname", "mkfifo", "head", "tr"}) {
      ASSERT_EQ(::symlink("busybox", (root_ + "/lower/bin/" + tool).c_str()), 0);
    }
    spec_.id = "c1";
    spec_.lower_dirs = {root_ + "/lower"};
    spec_.upper_dir = root_ + "/upper";
    spec_.work_dir = root_ + "/work";
    spec_.rootfs = root_ + "/rootfs";
    spec_.env = {"PATH=/bin", "HOME=/"};
    spec_.hostname = "berth-test";
    spec_.capabilities = {"CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"};
    spec_.namespaces = {{"pid", ""}, {"ipc", ""}, {"uts", ""}, {"net", ""}, {"mnt", ""}};
    spec_.log_path = root_ + "/logs/c1/0.log";
  }

  void TearDown() override {
    if (reaper_pid_ > 0) ::kill(reaper_pid_, SIGKILL);
    int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
    if (shim_pid > 0 && ::kill(shim_pid, 0) == 0) {
      auto reply = ShimCommand(bundle_, "shutdown", kTimeout);
      if (!reply.ok()) {
        int init_pid = ReadPidFile(bundle_ + "/init.pid");
        if (init_pid > 0) ::kill(init_pid, SIGKILL);
        ::kill(shim_pid, SIGKILL);
      }
      WaitForProcessGone(shim_pid, 10000);
    }
    ASSERT_TRUE(RemoveAll(root_).ok());
  }

  // Runs `berth-shim create` with a ready pipe on fd 3; returns its line.
  std::string Create(const char* shim_path = BERTH_SHIM_PATH) {
    EXPECT_TRUE(
        AtomicWriteFile(bundle_ + "/config.json", ContainerSpecToJson(spec_), 0644, false).ok());
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 3);  // dup2 clears CLOEXEC on fd 3
      ::execl(shim_path, shim_path, "create", "--bundle", bundle_.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    return line;
  }

  std::string Command(const std::string& line) {
    auto reply = ShimCommand(bundle_, line, kTimeout);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : "";
  }

  ExitRecord WaitForExit() {
    EXPECT_TRUE(WaitForFile(bundle_, "exit.json", 10000));
    auto json = ReadFile(bundle_ + "/exit.json");
    EXPECT_TRUE(json.ok()) << json.status();
    auto record = ExitRecordFromJson(json.ok() ? *json : "{}");
    EXPECT_TRUE(record.ok());
    return record.ok() ? *record : ExitRecord{};
  }

  // Runs `berth-shim exec` with captured stdout; returns exit code, output, error line.
  int Exec(const std::vector<std::string>& args, std::string* out, std::string* error) {
    int out_pipe[2], err_pipe[2];
    EXPECT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err_pipe, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out_pipe[1], 1);
      ::dup2(err_pipe[1], 3);
      std::vector<const char*> argv = {BERTH_SHIM_PATH, "exec", "--bundle", bundle_.c_str(), "--"};
      for (const std::string& a : args) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      ::execv(BERTH_SHIM_PATH, const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_pipe[0], buf, sizeof(buf))) > 0) out->append(buf, n);
    while ((n = ::read(err_pipe[0], buf, sizeof(buf))) > 0) error->append(buf, n);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string root_;
  std::string bundle_;
  ContainerSpec spec_;
  int reaper_pid_ = -1;
};

TEST_F(ShimIntegrationTest, RunsToCompletionWithCriLogAndExitRecord) {
  spec_.args = {"sh", "-c", "echo out; echo err >&2; printf tail; exit 3"};
  std::string ready = Create();
  ASSERT_THAT(ready, ::testing::StartsWith("ok "));
  int init_pid = ReadPidFile(bundle_ + "/init.pid");
  EXPECT_EQ(ready, absl::StrCat("ok ", init_pid));
  EXPECT_EQ(Command("status"), absl::StrCat("created ", init_pid));
  EXPECT_EQ(Command("start"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.reason, "Error");
  EXPECT_GT(exit.started_at, 0);
  EXPECT_GE(exit.finished_at, exit.started_at);
  EXPECT_EQ(Command("status"), "exited 3");

  auto log = ReadFile(spec_.log_path);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::string> lines = absl::StrSplit(*log, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << *log;
  std::vector<std::string> contents;
  for (const std::string& line : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    ASSERT_EQ(fields.size(), 4u) << line;
    EXPECT_THAT(fields[0], ::testing::MatchesRegex("[0-9-]+T[0-9:]+\\.[0-9]{9}Z"));
    contents.push_back(absl::StrCat(fields[1], " ", fields[2], " ", fields[3]));
  }
  EXPECT_THAT(contents, ::testing::UnorderedElementsAre("stdout F out", "stderr F err",
                                                        "stdout F tail"));
  EXPECT_EQ(Command("shutdown"), "ok");
  int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
  EXPECT_TRUE(WaitForProcessGone(shim_pid, 10000));
}

TEST_F(ShimIntegrationTest, KillNineRecordsSignal) {
  spec_.args = {"sleep", "100"};
  absl::Time begin = absl::Now();
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  // The pod-start budget is 16 ms; print it (this shared 2-core VM is noisy).
  std::printf("create+start took %s\n", absl::FormatDuration(absl::Now() - begin).c_str());
  EXPECT_THAT(Command("status"), ::testing::StartsWith("running "));
  EXPECT_EQ(Command("kill 9"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_EQ(exit.signal, 9);
  EXPECT_EQ(exit.reason, "Error");
}

TEST_F(ShimIntegrationTest, KillTermInSharedPidNamespace) {
  // As pid 1, sleep would ignore SIGTERM; in a pod's shared pid namespace it is not pid 1.
  std::string pidfile = root_ + "/reaper.pid";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(BERTH_SHIM_PATH, BERTH_SHIM_PATH, "pidns-init", "--pidfile", pidfile.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  reaper_pid_ = ReadPidFile(pidfile);
  ASSERT_GT(reaper_pid_, 0);
  spec_.namespaces[0].path = absl::StrCat("/proc/", reaper_pid_, "/ns/pid");
  spec_.args = {"sleep", "100"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  EXPECT_EQ(Command("kill 15"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 143);
  EXPECT_EQ(exit.signal, 15);
  // The reaper stops on SIGTERM.
  ASSERT_EQ(::kill(reaper_pid_, SIGTERM), 0);
  EXPECT_TRUE(WaitForProcessGone(reaper_pid_, 10000));
  reaper_pid_ = -1;
}

TEST_F(ShimIntegrationTest, SetupFailureNamesThePathAndLeavesNoProcess) {
  spec_.lower_dirs = {root_ + "/missing-layer"};
  spec_.args = {"sh"};
  std::string ready = Create();
  EXPECT_THAT(ready, ::testing::StartsWith("error "));
  EXPECT_THAT(ready, HasSubstr(root_ + "/missing-layer"));
  EXPECT_THAT(ready, HasSubstr("No such file or directory"));
  int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
  ASSERT_GT(shim_pid, 0);
  EXPECT_TRUE(WaitForProcessGone(shim_pid, 10000));
  EXPECT_FALSE(PathExists(bundle_ + "/init.pid"));
}

TEST_F(ShimIntegrationTest, StartErrorForMissingExecutable) {
  spec_.args = {"/bin/does-not-exist"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  std::string reply = Command("start");
  EXPECT_THAT(reply, ::testing::StartsWith("error "));
  EXPECT_THAT(reply, HasSubstr("/bin/does-not-exist"));
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 128);
  EXPECT_EQ(exit.reason, "StartError");
  EXPECT_THAT(exit.message, HasSubstr("/bin/does-not-exist"));
}

TEST_F(ShimIntegrationTest, ExecSeesContainerHostnameAndInit) {
  spec_.args = {"sleep", "100"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  std::string out, error;
  EXPECT_EQ(Exec({"hostname"}, &out, &error), 0) << error;
  EXPECT_EQ(out, "berth-test\n");
  out.clear();
  EXPECT_EQ(Exec({"cat", "/proc/1/cmdline"}, &out, &error), 0) << error;
  EXPECT_EQ(out, std::string("sleep\0" "100\0", 10));
  out.clear();
  EXPECT_EQ(Exec({"sh", "-c", "exit 7"}, &out, &error), 7);
  EXPECT_EQ(Exec({"no-such-tool"}, &out, &error), 126);
  EXPECT_THAT(error, HasSubstr("no-such-tool"));
}

TEST_F(ShimIntegrationTest, ShutdownKillsARunningContainer) {
  spec_.args = {"sleep", "100"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  int init_pid = ReadPidFile(bundle_ + "/init.pid");
  int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
  EXPECT_EQ(Command("shutdown"), "ok");
  EXPECT_TRUE(WaitForProcessGone(shim_pid, 10000));
  EXPECT_TRUE(WaitForProcessGone(init_pid, 10000));
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 137);
}

TEST_F(ShimIntegrationTest, MonitorServesAfterSetup) {
  spec_.args = {"sleep", "100"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
  ASSERT_GT(shim_pid, 0);
  // Only the monitor answers on shim.sock: once it has, the exec is done.
  EXPECT_EQ(Command("status"), absl::StrCat("created ", ReadPidFile(bundle_ + "/init.pid")));
  // The same pid now runs the small monitor image, still named berth-shim.
  char exe[4096] = {};
  ASSERT_GT(::readlink(absl::StrCat("/proc/", shim_pid, "/exe").c_str(), exe, sizeof(exe) - 1), 0);
  char* monitor = ::realpath(BERTH_SHIM_MONITOR_PATH, nullptr);
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(std::string(exe), std::string(monitor));
  ::free(monitor);
  auto comm = ReadFile(absl::StrCat("/proc/", shim_pid, "/comm"));
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(*comm, "berth-shim\n");
  // The init is still its child.
  auto stat = ReadFile(absl::StrCat("/proc/", ReadPidFile(bundle_ + "/init.pid"), "/stat"));
  ASSERT_TRUE(stat.ok());
  std::vector<std::string> fields = absl::StrSplit(stat->substr(stat->rfind(')') + 2), ' ');
  ASSERT_GT(fields.size(), 2u);
  EXPECT_EQ(fields[1], std::to_string(shim_pid));

  EXPECT_EQ(Command("explode"), "error unknown command \"explode\"");
  EXPECT_EQ(Command("kill 0"), "error kill: bad signal \"0\"");
  EXPECT_EQ(Command("start"), "ok");
  EXPECT_EQ(Command("start"), "error container is already running");
  EXPECT_THAT(Command("status"), ::testing::StartsWith("running "));
  EXPECT_EQ(Command("kill 9"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_EQ(Command("kill 9"), "ok");  // nothing is signalled after the exit
  EXPECT_EQ(Command("start"), "error container has exited");
  EXPECT_EQ(Command("status"), "exited 137");
}

TEST_F(ShimIntegrationTest, LongLinesAreSplitAndTheLogReopens) {
  // The container prints, then waits on a fifo that an exec writes to. It
  // stays up after that: were it to exit, the kernel could kill the exec (in
  // its pid namespace) between its write and its own exit (a 137 seen under
  // load).
  spec_.args = {"sh", "-c",
                "mkfifo /go; head -c 20000 /dev/zero | tr '\\0' x; echo; echo one; read x < /go;"
                " echo two; printf three; exec sleep 1000"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  ASSERT_TRUE(WaitForFileContaining(spec_.log_path, "stdout F one\n", 10000));
  ASSERT_EQ(::rename(spec_.log_path.c_str(), (spec_.log_path + ".1").c_str()), 0);
  EXPECT_EQ(Command("reopen-log"), "ok");
  std::string out, error;
  EXPECT_EQ(Exec({"sh", "-c", "echo go > /go"}, &out, &error), 0) << error;
  ASSERT_TRUE(WaitForFileContaining(spec_.log_path, "stdout F two\n", 10000));
  // "three" has no newline: it is logged (F) when the stream ends.
  EXPECT_EQ(Command("kill 9"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_EQ(LogEntries(spec_.log_path + ".1"),
            (std::vector<std::string>{absl::StrCat("stdout P ", std::string(16384, 'x')),
                                      absl::StrCat("stdout F ", std::string(20000 - 16384, 'x')),
                                      "stdout F one"}));
  EXPECT_EQ(LogEntries(spec_.log_path),
            (std::vector<std::string>{"stdout F two", "stdout F three"}));
}

TEST_F(ShimIntegrationTest, TtyOutputIsLoggedAsStdout) {
  spec_.tty = true;
  spec_.args = {"sh", "-c", "echo hello; echo oops >&2; exit 4"};
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 4);
  EXPECT_EQ(exit.reason, "Error");
  // The pty turns "\n" into "\r\n"; the "\r" is kept.
  EXPECT_EQ(LogEntries(spec_.log_path),
            (std::vector<std::string>{"stdout F hello\r", "stdout F oops\r"}));
}

TEST_F(ShimIntegrationTest, MissingMonitorFailsCreateAndLeavesNoProcess) {
  // A berth-shim with no berth-shim-monitor beside it.
  std::string lonely = root_ + "/lonely-shim";
  auto binary = ReadFile(BERTH_SHIM_PATH);
  ASSERT_TRUE(binary.ok());
  ASSERT_TRUE(AtomicWriteFile(lonely, *binary, 0755, false).ok());
  binary = std::string();
  spec_.args = {"sleep", "100"};
  std::string ready = Create(lonely.c_str());
  EXPECT_EQ(ready, absl::StrCat("error exec ", root_, "/berth-shim-monitor: No such file or directory"));
  int shim_pid = ReadPidFile(bundle_ + "/shim.pid");
  ASSERT_GT(shim_pid, 0);
  EXPECT_TRUE(WaitForProcessGone(shim_pid, 10000));
  // Checked before the init is created.
  EXPECT_FALSE(PathExists(bundle_ + "/init.pid"));
  EXPECT_FALSE(PathExists(bundle_ + "/shim.sock"));
}

TEST_F(ShimIntegrationTest, MonitorThatCannotRunIsAStartError) {
  // The monitor is found (create says ok), but it is no executable.
  std::string shim = root_ + "/shim-with-bad-monitor";
  auto binary = ReadFile(BERTH_SHIM_PATH);
  ASSERT_TRUE(binary.ok());
  ASSERT_TRUE(AtomicWriteFile(shim, *binary, 0755, false).ok());
  binary = std::string();
  ASSERT_TRUE(AtomicWriteFile(root_ + "/berth-shim-monitor", "not a program", 0644, false).ok());
  spec_.args = {"sleep", "100"};
  ASSERT_THAT(Create(shim.c_str()), ::testing::StartsWith("ok "));
  ExitRecord exit = WaitForExit();
  EXPECT_EQ(exit.exit_code, 128);
  EXPECT_EQ(exit.reason, "StartError");
  EXPECT_EQ(exit.message, absl::StrCat("exec ", root_, "/berth-shim-monitor: Permission denied"));
  EXPECT_TRUE(WaitForProcessGone(ReadPidFile(bundle_ + "/shim.pid"), 10000));
  EXPECT_TRUE(WaitForProcessGone(ReadPidFile(bundle_ + "/init.pid"), 10000));
  EXPECT_FALSE(PathExists(bundle_ + "/shim.sock"));
}

// An attach.sock client speaking attach_protocol.h.
class AttachClient {
 public:
  explicit AttachClient(const std::string& bundle) {
    auto fd = ConnectAttachSocket(bundle);
    EXPECT_TRUE(fd.ok()) << fd.status();
    fd_ = fd.ok() ? *fd : -1;
  }
  ~AttachClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Send(uint8_t kind, const std::string& payload) {
    std::string frame(shim::kAttachHeaderSize, '\0');
    shim::EncodeAttachHeader(kind, static_cast<uint32_t>(payload.size()),
                             reinterpret_cast<unsigned char*>(frame.data()));
    frame += payload;
    EXPECT_EQ(::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL), static_cast<ssize_t>(frame.size()));
  }
  // Reads frames until stdout holds `want`; false at EOF or after the timeout.
  bool ReadUntil(const std::string& want, int timeout_ms = 10000) {
    while (stdout_.find(want) == std::string::npos) {
      if (!ReadSome(timeout_ms)) return false;
    }
    return true;
  }
  // Reads until the shim closes the connection; false on timeout.
  bool ReadToEof(int timeout_ms = 10000) {
    while (true) {
      struct pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) != 1) return false;
      if (!ReadSome(timeout_ms)) return eof_;
    }
  }
  void Close() {
    ::close(fd_);
    fd_ = -1;
  }
  const std::string& out() const { return stdout_; }

 private:
  bool ReadSome(int timeout_ms) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    char buf[65536];
    ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    input_.append(buf, static_cast<size_t>(n));
    while (input_.size() >= shim::kAttachHeaderSize) {
      size_t length = shim::DecodeAttachLength(reinterpret_cast<const unsigned char*>(input_.data()));
      if (input_.size() < shim::kAttachHeaderSize + length) break;
      if (input_[0] == shim::kAttachStdout) stdout_ += input_.substr(shim::kAttachHeaderSize, length);
      input_.erase(0, shim::kAttachHeaderSize + length);
    }
    return true;
  }
  int fd_ = -1;
  bool eof_ = false;
  std::string input_;
  std::string stdout_;
};

TEST_F(ShimIntegrationTest, AttachClientsShareOutputSendStdinAndDetach) {
  spec_.args = {"cat"};
  spec_.stdin = true;
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  AttachClient first(bundle_), second(bundle_);
  first.Send(shim::kAttachStdin, "hello\n");
  EXPECT_TRUE(first.ReadUntil("hello\n")) << first.out();
  EXPECT_TRUE(second.ReadUntil("hello\n")) << second.out();
  first.Send(shim::kAttachCloseStdin, "");  // no stdinOnce: the container's stdin stays open
  first.Close();                            // detach
  second.Send(shim::kAttachStdin, "again\n");
  EXPECT_TRUE(second.ReadUntil("again\n")) << second.out();
  EXPECT_THAT(Command("status"), ::testing::StartsWith("running "));
  EXPECT_THAT(LogEntries(spec_.log_path), ::testing::ElementsAre("stdout F hello", "stdout F again"));
  // The container's exit ends every attach connection; the socket goes away.
  EXPECT_EQ(Command("kill 9"), "ok");
  EXPECT_TRUE(second.ReadToEof());
  WaitForExit();
  EXPECT_FALSE(PathExists(bundle_ + "/attach.sock"));
  EXPECT_EQ(ConnectAttachSocket(bundle_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ShimIntegrationTest, StdinOnceCloseClosesTheContainersStdin) {
  spec_.args = {"sh", "-c", "cat; echo stdin-closed"};
  spec_.stdin = true;
  spec_.stdin_once = true;
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  AttachClient client(bundle_);
  client.Send(shim::kAttachStdin, "once\n");
  EXPECT_TRUE(client.ReadUntil("once\n"));
  client.Send(shim::kAttachCloseStdin, "");
  EXPECT_TRUE(client.ReadUntil("stdin-closed\n")) << client.out();
  EXPECT_EQ(WaitForExit().exit_code, 0);
}

TEST_F(ShimIntegrationTest, AttachResizesTheTty) {
  spec_.args = {"sh"};
  spec_.stdin = true;
  spec_.tty = true;
  ASSERT_TRUE(::symlink("busybox", (root_ + "/lower/bin/stty").c_str()) == 0);
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  AttachClient client(bundle_);
  std::string size(4, '\0');
  shim::EncodeAttachResize(100, 30, reinterpret_cast<unsigned char*>(size.data()));
  client.Send(shim::kAttachResize, size);
  client.Send(shim::kAttachStdin, "stty size\n");
  EXPECT_TRUE(client.ReadUntil("30 100")) << client.out();
}

TEST_F(ShimIntegrationTest, SlowAttachClientIsDroppedAndTheLogIsComplete) {
  // ~4 MB of output: more than the 2 MiB a client's socket buffer holds.
  spec_.args = {"sh", "-c", "seq 0 299999 | sed 's/^/line /'; echo end"};
  for (const char* tool : {"seq", "sed"}) {
    ASSERT_EQ(::symlink("busybox", (root_ + "/lower/bin/" + tool).c_str()), 0);
  }
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  AttachClient idle(bundle_);  // never reads until the end
  ASSERT_EQ(Command("start"), "ok");
  EXPECT_EQ(WaitForExit().exit_code, 0);
  auto log = ReadFile(spec_.log_path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(std::count(log->begin(), log->end(), '\n'), 300001);
  EXPECT_TRUE(absl::EndsWith(*log, " stdout F end\n"));
  // It got a prefix of the output and then EOF, not all of it.
  EXPECT_TRUE(idle.ReadToEof());
  EXPECT_LT(idle.out().size(), 3000000u);
  EXPECT_EQ(idle.out().find("end\n"), std::string::npos);
}

TEST_F(ShimIntegrationTest, RotatesBeforeTheLimitKeepsMaxFilesAndCompresses) {
  constexpr int64_t kLimit = 64 * 1024;
  spec_.log_max_size = kLimit;
  spec_.log_max_files = 3;
  spec_.args = {"sh", "-c", "seq 0 19999 | sed 's/^/line /'"};
  for (const char* tool : {"seq", "sed"}) {
    ASSERT_EQ(::symlink("busybox", (root_ + "/lower/bin/" + tool).c_str()), 0);
  }
  ASSERT_THAT(Create(), ::testing::StartsWith("ok "));
  ASSERT_EQ(Command("start"), "ok");
  EXPECT_EQ(WaitForExit().exit_code, 0);
  const std::string dir = root_ + "/logs/c1";
  // The compressor of the last rotation may still run: wait for its .gz.
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) {
    names.clear();
    for (const std::string& name : ListDir(dir).value_or(std::vector<std::string>{})) names.push_back(name);
    // Rotation order: by name once ".gz" is ignored.
    std::sort(names.begin(), names.end(), [](absl::string_view a, absl::string_view b) {
      absl::ConsumeSuffix(&a, ".gz");
      absl::ConsumeSuffix(&b, ".gz");
      return a < b;
    });
    if (names.size() == 3 && absl::EndsWith(names[1], ".gz")) break;
    ::usleep(20000);
  }
  ASSERT_EQ(names.size(), 3u) << absl::StrJoin(names, " ");
  EXPECT_EQ(names[0], "0.log");
  EXPECT_THAT(names[1], ::testing::MatchesRegex("0\\.log\\.[0-9]{8}-[0-9]{6}(\\.[0-9]{9})?\\.gz"));
  EXPECT_THAT(names[2], ::testing::MatchesRegex("0\\.log\\.[0-9]{8}-[0-9]{6}(\\.[0-9]{9})?"));
  // Oldest to newest, the kept lines are consecutive up to the last one.
  std::string all;
  for (const std::string& name : {names[1], names[2], names[0]}) {
    gzFile f = gzopen((dir + "/" + name).c_str(), "rb");
    ASSERT_NE(f, nullptr) << name;
    char buf[65536];
    int n;
    std::string content;
    while ((n = gzread(f, buf, sizeof(buf))) > 0) content.append(buf, static_cast<size_t>(n));
    gzclose(f);
    if (!absl::EndsWith(name, ".gz")) {
      EXPECT_LE(static_cast<int64_t>(content.size()), kLimit) << name;
    }
    all += content;
  }
  std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 100u);
  int first = -1;
  ASSERT_TRUE(absl::SimpleAtoi(lines[0].substr(lines[0].rfind(' ') + 1), &first)) << lines[0];
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(absl::EndsWith(lines[i], absl::StrCat(" stdout F line ", first + static_cast<int>(i))))
        << i << ": " << lines[i];
  }
  EXPECT_EQ(first + static_cast<int>(lines.size()), 20000);
}

}  // namespace
}  // namespace berth
