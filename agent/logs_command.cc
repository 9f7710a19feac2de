#include "agent/logs_command.h"

#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/container_exit_watch.h"
#include "agent/log_follower.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

}  // namespace

absl::StatusOr<LogsOptions> ParseLogsArgs(const std::vector<std::string>& args) {
  LogsOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    bool has_value = false;
    if (absl::StartsWith(arg, "--") && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_value = true;
    }
    auto take = [&]() -> absl::StatusOr<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("flag ", arg, " needs a value"));
      return args[++i];
    };
    if (arg == "-f" || arg == "--follow") {
      options.follow = true;
    } else if (arg == "-p" || arg == "--previous") {
      options.previous = true;
    } else if (arg == "--timestamps") {
      options.timestamps = true;
    } else if (arg == "-c" || arg == "--container") {
      ASSIGN_OR_RETURN(options.container, take());
    } else if (arg == "-n" || arg == "--namespace") {
      ASSIGN_OR_RETURN(options.ns, take());
    } else if (arg == "--pod-logs-dir") {
      ASSIGN_OR_RETURN(options.pod_logs_dir, take());
    } else if (arg == "--state-dir") {
      ASSIGN_OR_RETURN(options.state_dir, take());
    } else if (arg == "--tail") {
      ASSIGN_OR_RETURN(std::string n, take());
      if (!absl::SimpleAtoi(n, &options.tail) || options.tail < -1) {
        return absl::InvalidArgumentError(absl::StrCat("--tail: \"", n, "\" is not a number of lines (-1: all)"));
      }
    } else if (absl::StartsWith(arg, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    } else if (options.pod.empty()) {
      options.pod = arg;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\" (one pod name only)"));
    }
  }
  if (options.pod.empty()) return absl::InvalidArgumentError("a pod name is required");
  if (options.follow && options.previous) {
    return absl::InvalidArgumentError("--follow and --previous cannot be used together");
  }
  return options;
}

absl::StatusOr<std::string> FindContainerLog(const LogsOptions& options) {
  const std::string prefix = absl::StrCat(options.ns, "_", options.pod, "_");
  std::string pod_dir;
  int64_t newest = -1;
  for (const std::string& name : ListDir(options.pod_logs_dir)) {
    if (!absl::StartsWith(name, prefix) || name.find('_', prefix.size()) != std::string::npos) continue;
    struct stat st = {};
    std::string path = absl::StrCat(options.pod_logs_dir, "/", name);
    if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (mtime > newest) {
      newest = mtime;
      pod_dir = path;
    }
  }
  if (pod_dir.empty()) {
    return absl::NotFoundError(absl::StrCat("pod ", options.ns, "/", options.pod, ": no logs under ",
                                            options.pod_logs_dir));
  }
  std::string container = options.container;
  if (container.empty()) {
    std::vector<std::string> containers = ListDir(pod_dir);
    std::sort(containers.begin(), containers.end());
    if (containers.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("pod ", options.ns, "/", options.pod,
                                                     " has containers [", absl::StrJoin(containers, " "),
                                                     "]: choose one with -c"));
    }
    container = containers[0];
  }
  const std::string container_dir = absl::StrCat(pod_dir, "/", container);
  std::vector<int64_t> restarts;
  for (const std::string& name : ListDir(container_dir)) {
    int64_t n;
    if (absl::EndsWith(name, ".log") && absl::SimpleAtoi(name.substr(0, name.size() - 4), &n) && n >= 0) {
      restarts.push_back(n);
    }
  }
  std::sort(restarts.begin(), restarts.end());
  if (restarts.empty()) {
    return absl::NotFoundError(absl::StrCat("container ", container, " in pod ", options.ns, "/", options.pod,
                                            ": no log file in ", container_dir));
  }
  if (options.previous && restarts.size() < 2) {
    return absl::NotFoundError(absl::StrCat("previous terminated container ", container, " in pod ", options.ns,
                                            "/", options.pod, " not found"));
  }
  int64_t restart = restarts[restarts.size() - (options.previous ? 2 : 1)];
  return absl::StrCat(container_dir, "/", restart, ".log");
}

void LogPrinter::Append(const std::string& line, std::string* out) {
  CriLogLine parsed;
  if (!ParseCriLogLine(line, &parsed)) {
    absl::StrAppend(out, line, "\n");  // not ours: shown as it is
    at_line_start_ = true;
    return;
  }
  if (timestamps_ && at_line_start_) absl::StrAppend(out, parsed.timestamp, " ");
  absl::StrAppend(out, parsed.content);
  if (!parsed.partial) out->push_back('\n');
  at_line_start_ = !parsed.partial;
}

size_t TailStart(const std::vector<std::string>& lines, int64_t n) {
  if (n < 0) return 0;
  size_t start = lines.size();
  int64_t messages = 0;
  // Walk back over whole messages: a message ends with an F line (or a line we cannot parse).
  while (start > 0) {
    CriLogLine parsed;
    bool ends_message = !ParseCriLogLine(lines[start - 1], &parsed) || !parsed.partial;
    if (ends_message) {
      if (messages == n) break;
      ++messages;
    }
    --start;
  }
  return start;
}

int RunLogsCommand(const std::vector<std::string>& args) {
  auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "berth-agent logs: %s\n", std::string(status.message()).c_str());
    return 1;
  };
  auto options = ParseLogsArgs(args);
  if (!options.ok()) return fail(options.status());
  auto path = FindContainerLog(*options);
  if (!path.ok()) return fail(path.status());

  // Found before the log is read: an exit after this is seen by the watch.
  std::unique_ptr<ContainerExitWatch> exit_watch;
  if (options->follow) {
    auto watch = ContainerExitWatch::Start(options->state_dir, *path);
    if (watch.ok()) {
      exit_watch = std::move(*watch);
    } else if (!absl::IsNotFound(watch.status())) {
      return fail(watch.status());
    }
  }

  LogPrinter printer(options->timestamps);
  std::vector<std::string> initial;
  bool started = false;
  std::string out;
  LogFollower follower(*path, [&](absl::string_view line) {
    if (!started) {
      initial.emplace_back(line);
    } else {
      printer.Append(std::string(line), &out);
    }
  });
  if (auto s = follower.Start(); !s.ok()) return fail(s);
  for (size_t i = TailStart(initial, options->tail); i < initial.size(); ++i) printer.Append(initial[i], &out);
  initial.clear();
  started = true;
  auto flush = [&out] {
    bool ok = out.empty() || (std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0);
    out.clear();
    return ok;
  };
  if (!flush()) return 1;
  if (!options->follow) return 0;
  while (true) {
    // The shim renames exit.json in only after the container's last output is
    // in the log: once it is there, one more read of the log ends the follow.
    if (exit_watch && exit_watch->Exited()) {
      if (auto s = follower.Poll(); !s.ok()) return fail(s);
      return flush() ? 0 : 1;
    }
    struct pollfd p[2] = {{follower.inotify_fd(), POLLIN, 0}, {exit_watch ? exit_watch->inotify_fd() : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return fail(absl::InternalError("poll inotify"));
    if (auto s = follower.Poll(); !s.ok()) return fail(s);
    if (!flush()) return 1;
  }
}

}  // namespace berth::agent
