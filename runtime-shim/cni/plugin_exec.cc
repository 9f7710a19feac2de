#include "runtime-shim/cni/plugin_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/time.h"

namespace berth::cni {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

std::string Truncated(const std::string& text, size_t max = 512) {
  if (text.size() <= max) return text;
  return absl::StrCat(text.substr(0, max), "...");
}

}  // namespace

std::vector<std::string> BuildPluginEnv(const PluginEnv& env,
                                        const std::vector<std::string>& inherited) {
  std::vector<std::string> out;
  for (const auto& entry : inherited) {
    if (absl::StartsWith(entry, "CNI_")) continue;
    out.push_back(entry);
  }
  out.push_back(absl::StrCat("CNI_COMMAND=", env.command));
  if (!env.container_id.empty()) out.push_back(absl::StrCat("CNI_CONTAINERID=", env.container_id));
  if (!env.netns.empty()) out.push_back(absl::StrCat("CNI_NETNS=", env.netns));
  if (!env.ifname.empty()) out.push_back(absl::StrCat("CNI_IFNAME=", env.ifname));
  if (!env.args.empty()) {
    out.push_back(absl::StrCat(
        "CNI_ARGS=", absl::StrJoin(env.args, ";", absl::PairFormatter("="))));
  }
  out.push_back(absl::StrCat("CNI_PATH=", absl::StrJoin(env.bin_dirs, ":")));
  return out;
}

absl::StatusOr<std::string> FindPlugin(const std::string& type,
                                       const std::vector<std::string>& bin_dirs) {
  for (const auto& dir : bin_dirs) {
    std::string path = absl::StrCat(dir, "/", type);
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return absl::NotFoundError(absl::StrCat("CNI plugin \"", type, "\" not found in ",
                                          absl::StrJoin(bin_dirs, ":")));
}

nlohmann::json BuildPluginStdin(const NetworkConfigList& list, const PluginConfig& plugin,
                                const nlohmann::json& prev_result,
                                const nlohmann::json& capability_args) {
  nlohmann::json config = plugin.raw;
  config["name"] = list.name;
  config["cniVersion"] = list.cni_version;
  if (!prev_result.is_null()) config["prevResult"] = prev_result;
  nlohmann::json runtime_config = nlohmann::json::object();
  if (capability_args.is_object()) {
    for (const auto& [capability, enabled] : plugin.capabilities) {
      if (!enabled) continue;
      auto it = capability_args.find(capability);
      if (it != capability_args.end()) runtime_config[capability] = *it;
    }
  }
  if (!runtime_config.empty()) config["runtimeConfig"] = runtime_config;
  return config;
}

absl::Status CniErrorToStatus(const nlohmann::json& error, const std::string& plugin,
                              const std::string& command, const std::string& stderr_text) {
  int code = 0;
  std::string msg, details;
  if (error.is_object()) {
    if (auto it = error.find("code"); it != error.end() && it->is_number_integer()) code = it->get<int>();
    if (auto it = error.find("msg"); it != error.end() && it->is_string()) msg = it->get<std::string>();
    if (auto it = error.find("details"); it != error.end() && it->is_string()) {
      details = it->get<std::string>();
    }
  }
  std::string text = absl::StrCat("CNI plugin ", plugin, " ", command, " failed");
  if (code != 0) absl::StrAppend(&text, " (code ", code, ")");
  absl::StrAppend(&text, ": ", msg.empty() ? "no message" : msg);
  if (!details.empty()) absl::StrAppend(&text, ": ", details);
  if (msg.empty() && !stderr_text.empty()) absl::StrAppend(&text, "; stderr: ", Truncated(stderr_text));
  switch (code) {
    case 1: case 2: case 4: case 6: case 7:
      return absl::InvalidArgumentError(text);
    case 3:
      return absl::NotFoundError(text);
    case 11: case 50: case 51:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::StatusOr<ProcessOutput> RunProcess(const std::string& path, const std::vector<std::string>& env,
                                         const std::string& input, absl::Duration timeout) {
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {in_pipe, out_pipe, err_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 ||
      pipe2(err_pipe, O_CLOEXEC) < 0) {
    absl::Status status = ErrnoError(absl::StrCat("pipe for ", path));
    close_all();
    return status;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = {const_cast<char*>(path.c_str()), nullptr};
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    close_all();
    return ErrnoError(rc, absl::StrCat("spawn ", path));
  }
  CloseFd(in_pipe[0]);
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  ProcessOutput output;
  size_t written = 0;
  if (input.empty()) CloseFd(in_pipe[1]);
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  bool exited = false, timed_out = false;
  auto drain = [&](int& fd, std::string* sink) {
    char buf[16384];
    while (fd >= 0) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        sink->append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        CloseFd(fd);
      } else if (errno != EINTR) {
        if (errno != EAGAIN) CloseFd(fd);
        return;
      }
    }
  };
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0 || in_pipe[1] >= 0) {
    if (exited) {
      // The plugin is gone; take what is buffered and stop (a grandchild may
      // still hold the pipes open).
      drain(out_pipe[0], &output.out);
      drain(err_pipe[0], &output.err);
      CloseFd(out_pipe[0]);
      CloseFd(err_pipe[0]);
      CloseFd(in_pipe[1]);
      break;
    }
    int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd fds[4];
    int n = 0;
    int in_idx = -1, out_idx = -1, err_idx = -1, pid_idx = -1;
    if (in_pipe[1] >= 0) { in_idx = n; fds[n++] = {in_pipe[1], POLLOUT, 0}; }
    if (out_pipe[0] >= 0) { out_idx = n; fds[n++] = {out_pipe[0], POLLIN, 0}; }
    if (err_pipe[0] >= 0) { err_idx = n; fds[n++] = {err_pipe[0], POLLIN, 0}; }
    if (pidfd >= 0) { pid_idx = n; fds[n++] = {pidfd, POLLIN, 0}; }
    int ready = poll(fds, n, static_cast<int>(std::min<int64_t>(left_ms, 1 << 30)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      timed_out = true;  // treat as fatal: kill below
      break;
    }
    if (in_idx >= 0 && fds[in_idx].revents) {
      if (fds[in_idx].revents & (POLLERR | POLLHUP)) {
        CloseFd(in_pipe[1]);
      } else {
        ssize_t w = write(in_pipe[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          CloseFd(in_pipe[1]);
        }
      }
    }
    if (out_idx >= 0 && fds[out_idx].revents) drain(out_pipe[0], &output.out);
    if (err_idx >= 0 && fds[err_idx].revents) drain(err_pipe[0], &output.err);
    if (pid_idx >= 0 && fds[pid_idx].revents) exited = true;
  }
  close_all();
  if (!timed_out && pidfd >= 0 && !exited) {
    // Pipes closed: wait for the exit within what is left of the deadline.
    int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int ready = left_ms > 0 ? poll(&pfd, 1, static_cast<int>(left_ms)) : 0;
    if (ready <= 0) timed_out = true;
  }
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (pidfd >= 0) close(pidfd);
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(path, " did not finish within ", absl::FormatDuration(timeout), "; killed"));
  }
  if (WIFEXITED(wstatus)) {
    output.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    output.exit_code = 128 + WTERMSIG(wstatus);
  }
  return output;
}

absl::StatusOr<nlohmann::json> InvokePlugin(const std::string& path, const std::string& type,
                                            const PluginEnv& env, const nlohmann::json& stdin_json,
                                            absl::Duration timeout) {
  std::vector<std::string> inherited;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) inherited.push_back(*e);
  auto output = RunProcess(path, BuildPluginEnv(env, inherited), stdin_json.dump(), timeout);
  if (!output.ok()) {
    return absl::Status(output.status().code(), absl::StrCat("CNI plugin ", type, " ", env.command,
                                                             ": ", output.status().message()));
  }
  nlohmann::json parsed;
  bool blank = output->out.find_first_not_of(" \t\r\n") == std::string::npos;
  if (!blank) {
    parsed = nlohmann::json::parse(output->out, nullptr, /*allow_exceptions=*/false);
  }
  if (output->exit_code != 0) {
    if (!blank && !parsed.is_discarded()) return CniErrorToStatus(parsed, type, env.command, output->err);
    std::string text = absl::StrCat("CNI plugin ", type, " ", env.command, " exited with ",
                                    output->exit_code);
    if (!output->out.empty()) absl::StrAppend(&text, "; stdout: ", Truncated(output->out));
    if (!output->err.empty()) absl::StrAppend(&text, "; stderr: ", Truncated(output->err));
    return absl::InternalError(text);
  }
  if (blank) return nlohmann::json();
  if (parsed.is_discarded()) {
    return absl::InternalError(absl::StrCat("CNI plugin ", type, " ", env.command,
                                            ": stdout is not JSON: ", Truncated(output->out)));
  }
  return parsed;
}

}  // namespace berth::cni
