#include "runtime-shim/cdi/container_hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace berth::cdi {
namespace {

constexpr char kOciVersion[] = "1.2.0";
// The container's namespaces a createContainer / startContainer hook joins; mnt last,
// since /proc/<pid>/ns paths are opened before any is joined.
constexpr const char* kContainerNamespaces[] = {"ipc", "uts", "net", "cgroup", "mnt"};
constexpr size_t kLogTail = 512;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool InContainer(HookStage stage) {
  return stage == HookStage::kCreateContainer || stage == HookStage::kStartContainer;
}

// Write-only helpers for the forked child (async-signal-safe).
void ChildFail(const char* what) {
  ssize_t ignored = write(2, what, strlen(what));
  (void)ignored;
  _exit(127);
}

std::string LogTail(const std::string& bundle) {
  auto text = ReadFile(bundle + "/" + kHooksLog);
  if (!text.ok() || text->empty()) return "";
  std::string tail = text->size() > kLogTail ? "..." + text->substr(text->size() - kLogTail) : *text;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return absl::StrCat("; ", kHooksLog, ": ", tail);
}

// Runs one hook and waits for it (at most its timeout).
absl::Status RunHook(HookStage stage, const Hook& hook, const HookContext& context) {
  const std::string name = absl::StrCat(HookStageName(stage), " hook ", hook.path);
  const std::string state = HookStateJson(stage, context);
  Fd input(memfd_create("oci-hook-state", MFD_CLOEXEC));
  if (input.get() < 0) return ErrnoError(absl::StrCat(name, ": memfd for the state"));
  if (write(input.get(), state.data(), state.size()) != static_cast<ssize_t>(state.size()) ||
      lseek(input.get(), 0, SEEK_SET) != 0) {
    return ErrnoError(absl::StrCat(name, ": writing the state"));
  }
  Fd log(open((context.bundle + "/" + kHooksLog).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (log.get() < 0) return ErrnoError(absl::StrCat(name, ": open ", context.bundle, "/", kHooksLog));

  // Everything the child needs is made before fork (the runtime has threads).
  std::vector<std::unique_ptr<Fd>> namespaces;
  if (InContainer(stage)) {
    if (context.pid <= 0) return absl::FailedPreconditionError(absl::StrCat(name, ": the container has no process"));
    for (const char* ns : kContainerNamespaces) {
      std::string theirs = absl::StrCat("/proc/", context.pid, "/ns/", ns);
      struct stat a {}, b {};
      if (stat(theirs.c_str(), &a) != 0) return ErrnoError(absl::StrCat(name, ": ", theirs));
      if (stat(absl::StrCat("/proc/self/ns/", ns).c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        continue;  // already ours
      }
      int fd = open(theirs.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return ErrnoError(absl::StrCat(name, ": open ", theirs));
      namespaces.push_back(std::make_unique<Fd>(fd));
    }
  }
  // createContainer: the path resolves on the host, so it is opened here (no
  // CLOEXEC: a script is run through /dev/fd/N); startContainer: in the container.
  std::unique_ptr<Fd> program;
  if (stage == HookStage::kCreateContainer) {
    int fd = open(hook.path.c_str(), O_PATH);
    if (fd < 0) return ErrnoError(absl::StrCat(name, ": open"));
    program = std::make_unique<Fd>(fd);
  }
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<int> ns_fds;
  for (const auto& fd : namespaces) ns_fds.push_back(fd->get());
  const int program_fd = program ? program->get() : -1;

  pid_t pid = fork();
  if (pid < 0) return ErrnoError(absl::StrCat(name, ": fork"));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, nullptr);
    if (dup2(input.get(), 0) < 0 || dup2(log.get(), 1) < 0 || dup2(log.get(), 2) < 0) ChildFail("hook: dup2\n");
    for (int fd : ns_fds) {
      if (setns(fd, 0) != 0) ChildFail("hook: cannot join the container's namespaces\n");
    }
    if (program_fd >= 0) {
      syscall(SYS_execveat, program_fd, "", argv.data(), envp.data(), AT_EMPTY_PATH);
    } else {
      execve(hook.path.c_str(), argv.data(), envp.data());
    }
    ChildFail("hook: exec failed\n");
  }

  absl::Duration timeout = hook.timeout ? absl::Seconds(*hook.timeout) : kDefaultHookTimeout;
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  bool timed_out = false;
  if (pidfd.get() >= 0) {
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    int n;
    do {
      n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    } while (n < 0 && errno == EINTR);
    timed_out = n == 0;
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(name, ": killed after its timeout of ", absl::FormatDuration(timeout), LogTail(context.bundle)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string how = WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                      : absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::FailedPreconditionError(absl::StrCat(name, " failed: ", how, LogTail(context.bundle)));
}

}  // namespace

const char* HookStageName(HookStage stage) {
  switch (stage) {
    case HookStage::kPrestart: return "prestart";
    case HookStage::kCreateRuntime: return "createRuntime";
    case HookStage::kCreateContainer: return "createContainer";
    case HookStage::kStartContainer: return "startContainer";
    case HookStage::kPoststart: return "poststart";
    case HookStage::kPoststop: return "poststop";
  }
  return "";
}

std::string HookStateJson(HookStage stage, const HookContext& context) {
  const char* status = "creating";
  if (stage == HookStage::kStartContainer) status = "created";
  if (stage == HookStage::kPoststart) status = "running";
  if (stage == HookStage::kPoststop) status = "stopped";
  nlohmann::json j = {{"ociVersion", kOciVersion}, {"id", context.id}, {"status", status},
                      {"bundle", context.bundle}, {"annotations", context.annotations}};
  if (stage != HookStage::kPoststop && context.pid > 0) j["pid"] = context.pid;
  return j.dump();
}

absl::Status SaveHooks(const std::string& bundle, const std::vector<Hook>& hooks) {
  if (hooks.empty()) return absl::OkStatus();
  // A CDI spec of its own, so LoadHooks parses and checks it as any spec.
  nlohmann::json list = nlohmann::json::array();
  for (const auto& h : hooks) {
    nlohmann::json j = {{"hookName", h.hook_name}, {"path", h.path}, {"args", h.args}, {"env", h.env}};
    if (h.timeout) j["timeout"] = *h.timeout;
    list.push_back(std::move(j));
  }
  nlohmann::json spec = {{"cdiVersion", "0.6.0"}, {"kind", "berth.dev/hooks"}, {"devices", nlohmann::json::array()},
                         {"containerEdits", {{"hooks", list}}}};
  return AtomicWriteFile(bundle + "/" + kHooksFile, spec.dump(), 0600, false);
}

absl::StatusOr<std::vector<Hook>> LoadHooks(const std::string& bundle) {
  const std::string path = bundle + "/" + kHooksFile;
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::vector<Hook>();
    return text.status();
  }
  ASSIGN_OR_RETURN(Spec spec, ParseSpec(*text, path));
  return std::move(spec.edits.hooks);
}

absl::Status RunHooks(HookStage stage, const HookContext& context) {
  ASSIGN_OR_RETURN(std::vector<Hook> hooks, LoadHooks(context.bundle));
  for (const auto& hook : hooks) {
    if (hook.hook_name != HookStageName(stage)) continue;
    absl::Time begin = absl::Now();
    RETURN_IF_ERROR(RunHook(stage, hook, context));
    BERTH_LOG(Info) << "OCI hook ran" << Kv("container", context.id) << Kv("hook", HookStageName(stage))
                    << Kv("path", hook.path) << Kv("took", absl::FormatDuration(absl::Now() - begin));
  }
  return absl::OkStatus();
}

absl::Status RunCreateHooks(const HookContext& context) {
  for (HookStage stage : {HookStage::kPrestart, HookStage::kCreateRuntime, HookStage::kCreateContainer}) {
    RETURN_IF_ERROR(RunHooks(stage, context));
  }
  return absl::OkStatus();
}

}  // namespace berth::cdi
