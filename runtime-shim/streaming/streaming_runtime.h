// StreamingRuntime: what the streaming server asks of the container runtime
// when a client connects with a token. The CRI runtime implements it over its
// containers and sandboxes (runtime-shim/cri/streaming_ops.cc); tests use a
// fake that runs commands on the host.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::streaming {

// A started exec: the process the server reaps (its exit code is the
// command's) and, optionally, a pipe whose writers send "error <message>\n"
// when the command could not be started (EOF otherwise). The server owns
// error_fd from here on.
struct ExecProcess {
  pid_t pid = -1;
  int error_fd = -1;
};

class StreamingRuntime {
 public:
  virtual ~StreamingRuntime() = default;

  // Starts `cmd` in the container (which must exist and run) with the given
  // fds as its stdin, stdout and stderr (-1: /dev/null). With `tty` all three
  // are the same pty slave, which the process makes its controlling terminal.
  // The callee must not keep the fds; the server closes its copies after.
  virtual absl::StatusOr<ExecProcess> StartExec(const std::string& container_id,
                                                const std::vector<std::string>& cmd, bool tty,
                                                int stdin_fd, int stdout_fd, int stderr_fd) = 0;

  // A connected TCP socket (close-on-exec) to `port` on the loopback of the
  // pod's network namespace.
  virtual absl::StatusOr<int> DialPort(const std::string& sandbox_id, uint16_t port) = 0;

  // A connected unix socket (close-on-exec) to the container's attach socket
  // (runtime-shim/shim/attach_protocol.h); the container must run.
  virtual absl::StatusOr<int> ConnectAttach(const std::string& container_id) {
    return absl::UnimplementedError("attach to " + container_id + ": not supported by this runtime");
  }
};

}  // namespace berth::streaming
