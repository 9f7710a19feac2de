#include "cni-plugins/bridge/ipam_delegate.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cni-plugins/common/plugin.h"
#include "cni-plugins/host-local/allocator.h"
#include "cni-plugins/host-local/ipam_config.h"
#include "common/errors.h"

extern char** environ;

namespace berth::bridge {
namespace {

using cniplugin::CniError;

absl::Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write the ipam plugin's stdin");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

constexpr char kBerthHostLocal[] = "berth-host-local";

bool InProcess(const std::string& type, const std::string& command) {
  if (type != kBerthHostLocal || (command != "ADD" && command != "DEL")) return false;
  const char* force_exec = std::getenv("BERTH_CNI_EXEC_IPAM");
  return force_exec == nullptr || std::string(force_exec).empty() || std::string(force_exec) == "0";
}

// What berth-host-local's main() does for ADD and DEL.
absl::StatusOr<nlohmann::json> HostLocal(const cniplugin::PluginArgs& args, const std::string& command) {
  auto config = hostlocal::ParseIpamConfig(args.config);
  if (!config.ok()) return config.status();
  if (command == "DEL") {
    absl::Status s = hostlocal::Release(*config, args.container_id, args.ifname);
    if (!s.ok()) return s;
    return nlohmann::json();
  }
  auto allocations = hostlocal::Allocate(*config, args.container_id, args.ifname);
  if (!allocations.ok()) return allocations.status();
  return hostlocal::ResultJson(*config, *allocations, args.cni_version);
}

}  // namespace

absl::StatusOr<std::string> FindIpamPlugin(const std::string& type, const std::string& cni_path) {
  std::vector<std::string> dirs;
  for (absl::string_view dir : absl::StrSplit(cni_path, ':', absl::SkipEmpty())) {
    std::string path = absl::StrCat(dir, "/", type);
    if (access(path.c_str(), X_OK) == 0) return path;
    dirs.emplace_back(dir);
  }
  return CniError(cniplugin::kInvalidConfig,
                  absl::StrCat("ipam.type: plugin \"", type, "\" not found in CNI_PATH [",
                               absl::StrJoin(dirs, ", "), "]"));
}

IpamDelegate::IpamDelegate(IpamDelegate&& o) noexcept
    : type_(std::move(o.type_)), pid_(o.pid_), out_fd_(o.out_fd_),
      in_process_(o.in_process_), thread_(std::move(o.thread_)),
      inline_result_(std::move(o.inline_result_)) {
  o.pid_ = -1;
  o.out_fd_ = -1;
}

IpamDelegate::~IpamDelegate() {
  if (thread_ && thread_->joinable()) thread_->join();
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ > 0) {
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

absl::StatusOr<IpamDelegate> IpamDelegate::Start(const cniplugin::PluginArgs& args,
                                                 const std::string& type,
                                                 const std::string& command,
                                                 std::function<void()> alongside) {
  auto path = FindIpamPlugin(type, args.path);
  if (!path.ok()) return path.status();
  if (InProcess(type, command)) {
    // On a thread of its own, so it overlaps the caller's netlink work.
    IpamDelegate delegate(type, -1, -1);
    delegate.in_process_ = true;
    delegate.inline_result_ = std::make_unique<absl::StatusOr<nlohmann::json>>(absl::UnknownError("not run"));
    delegate.thread_ = std::make_unique<std::thread>(
        [args, command, alongside = std::move(alongside), result = delegate.inline_result_.get()] {
          if (alongside) alongside();
          *result = HostLocal(args, command);
        });
    return delegate;
  }
  const std::string stdin_data = args.config.dump();
  // The environment as it is, with CNI_COMMAND replaced.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "CNI_COMMAND=")) env_strings.emplace_back(*e);
  }
  env_strings.push_back(absl::StrCat("CNI_COMMAND=", command));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0) return ErrnoError("pipe for the ipam plugin");
  if (pipe2(out, O_CLOEXEC) < 0) {
    int err = errno;
    close(in[0]);
    close(in[1]);
    return ErrnoError(err, "pipe for the ipam plugin");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::string argv0 = *path;
  char* argv[] = {argv0.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path->c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return CniError(cniplugin::kPluginSpecific,
                    absl::StrCat("start ipam plugin ", *path, ": ", strerror(rc)));
  }
  IpamDelegate delegate(type, pid, out[0]);
  absl::Status written = WriteAll(in[1], stdin_data);
  close(in[1]);
  // EPIPE: it exited without reading; Wait() reports why.
  if (!written.ok() && !absl::StrContains(written.message(), strerror(EPIPE))) return written;
  if (alongside) alongside();
  return delegate;
}

absl::StatusOr<nlohmann::json> IpamDelegate::Wait() {
  if (in_process_) {
    if (!inline_result_) return absl::FailedPreconditionError("ipam plugin waited for twice");
    if (thread_ && thread_->joinable()) thread_->join();
    absl::StatusOr<nlohmann::json> r = std::move(*inline_result_);
    inline_result_.reset();
    if (r.ok()) return r;
    return CniError(cniplugin::CniCode(r.status()),
                    absl::StrCat("ipam plugin ", type_, ": ", r.status().message()));
  }
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  close(out_fd_);
  out_fd_ = -1;
  int st = 0;
  while (waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) return ErrnoError(absl::StrCat("wait for ipam plugin ", type_));
  }
  pid_ = -1;
  auto json = nlohmann::json::parse(output, nullptr, false);
  bool empty = output.find_first_not_of(" \t\r\n") == std::string::npos;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    if (empty) return nlohmann::json();
    if (json.is_discarded()) {
      return CniError(cniplugin::kDecodeFailure,
                      absl::StrCat("ipam plugin ", type_, " printed no JSON: ", output));
    }
    return json;
  }
  if (!json.is_discarded() && json.is_object() && json.contains("code") && json["code"].is_number_integer()) {
    std::string msg = json.value("msg", std::string("failed"));
    std::string details = json.value("details", std::string());
    return CniError(json["code"].get<int>(), absl::StrCat("ipam plugin ", type_, ": ", msg), details);
  }
  std::string how = WIFEXITED(st) ? absl::StrCat("exit status ", WEXITSTATUS(st))
                                  : absl::StrCat("signal ", WTERMSIG(st));
  return CniError(cniplugin::kPluginSpecific,
                  absl::StrCat("ipam plugin ", type_, " failed (", how, ")", empty ? "" : ": ", output));
}

absl::StatusOr<nlohmann::json> IpamDelegate::Run(const cniplugin::PluginArgs& args,
                                                 const std::string& type,
                                                 const std::string& command) {
  auto delegate = Start(args, type, command);
  if (!delegate.ok()) return delegate.status();
  return delegate->Wait();
}

}  // namespace berth::bridge
