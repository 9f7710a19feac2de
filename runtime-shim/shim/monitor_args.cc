// The monitor's half of monitor_args.h: linked without libc.
#include "runtime-shim/shim/monitor_args.h"

#include <string_view>

namespace berth::shim {
namespace {

bool ParseInt(const char* text, int64_t* value) {
  std::string_view s(text);
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *value = negative ? -v : v;
  return true;
}

}  // namespace

bool ParseMonitorArgs(int argc, char** argv, MonitorArgs* args, TextSpan* error) {
  *args = MonitorArgs();
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag(argv[i]);
    if (i + 1 >= argc) {
      error->Append("flag ").Append(flag).Append(" needs a value");
      return false;
    }
    const char* value = argv[++i];
    if (flag == "--bundle") {
      args->bundle = value;
    } else if (flag == "--log") {
      args->log_path = value;
    } else if (flag == "--memory-cgroup") {
      args->memory_cgroup_dir = value;
    } else if (flag == "--shim") {
      args->shim_path = value;
    } else {
      int64_t number = 0;
      if (!ParseInt(value, &number)) {
        error->Append("flag ").Append(flag).Append(": bad number \"").Append(value).Append("\"");
        return false;
      }
      const int fd = number >= 0 && number < (1 << 30) ? static_cast<int>(number) : -1;
      if (flag == "--init-pid") {
        args->init_pid = fd;
      } else if (flag == "--oom-kills-at-create") {
        args->oom_kills_at_create = number;
      } else if (flag == "--listen-fd") {
        args->listen_fd = fd;
      } else if (flag == "--start-fd") {
        args->start_fd = fd;
      } else if (flag == "--sync-fd") {
        args->sync_fd = fd;
      } else if (flag == "--stdout-fd") {
        args->stdout_fd = fd;
      } else if (flag == "--stderr-fd") {
        args->stderr_fd = fd;
      } else if (flag == "--stdin-fd") {
        args->stdin_fd = fd;
      } else if (flag == "--log-fd") {
        args->log_fd = fd;
      } else if (flag == "--attach-fd") {
        args->attach_fd = fd;
      } else if (flag == "--tty") {
        args->tty = number != 0;
      } else if (flag == "--stdin-once") {
        args->stdin_once = number != 0;
      } else if (flag == "--log-max-size") {
        args->log_max_size = number > 0 ? number : 0;
      } else if (flag == "--log-max-files") {
        args->log_max_files = fd;
      } else {
        error->Append("unknown flag ").Append(flag);
        return false;
      }
    }
  }
  const char* missing = args->init_pid <= 0     ? "--init-pid"
                        : args->listen_fd < 0   ? "--listen-fd"
                        : args->start_fd < 0    ? "--start-fd"
                        : args->sync_fd < 0     ? "--sync-fd"
                        : args->stdout_fd < 0   ? "--stdout-fd"
                                                : nullptr;
  if (missing != nullptr) {
    error->Append("missing ").Append(missing);
    return false;
  }
  if (args->log_max_size > 0 && args->log_max_files < 2) {
    error->Append("--log-max-files must be at least 2 with --log-max-size");
    return false;
  }
  return true;
}

}  // namespace berth::shim
