// Test helper: runs a function in a forked child (so seccomp filters, uid
// switches and dropped capabilities never touch the test process) and returns
// what the child wrote. The child is always reaped, even when an assertion in
// the parent fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <map>
#include <sstream>
#include <string>

namespace berth::testing {

struct ChildResult {
  std::string output;  // what the child's function returned
  int wait_status = 0;
  bool exited_zero() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }
};

// Runs `body` in a forked child; its return value travels back over a pipe.
inline ChildResult RunInChild(const std::function<std::string()>& body) {
  ChildResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.output = "pipe failed";
    result.wait_status = -1;
    return result;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out = body();
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) _exit(3);
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    result.wait_status = -1;
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  // EOF means the child exited (or closed the pipe); reap it either way.
  while (waitpid(pid, &result.wait_status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

// "key: value" lines (as /proc/self/status and our child bodies write them).
inline std::map<std::string, std::string> ParseFields(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = start == std::string::npos ? "" : line.substr(start);
  }
  return fields;
}

}  // namespace berth::testing
