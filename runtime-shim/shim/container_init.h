// The container's init process between clone() and execve(): it sets up the
// container, reports "ready" to the shim over the sync pipe, waits for the
// start byte, then execs. Failures go to the shim as a message instead.
//
// Sync pipe messages (one write each): "R" set up and waiting for start;
// "E<message>" failed (setup or exec). A successful exec closes the
// CLOEXEC pipe: EOF.
#pragma once

#include <string>

#include "runtime-shim/shim/container_rootfs.h"
#include "runtime-shim/shim/init_sync.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

struct InitPlan {
  const ContainerSpec* spec = nullptr;
  std::string seccomp_profile;  // read from the bundle before pivot_root; empty: none
  RootfsOptions rootfs;
  bool new_uts_ns = true;
  bool tty = false;       // stdio is a pty slave: become its session's controlling tty
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int sync_fd = -1;       // write end of the sync pipe
  int start_fd = -1;      // read end of the start pipe
};

// Runs in the cloned child; never returns.
[[noreturn]] void RunContainerInit(const InitPlan& plan);

}  // namespace berth::shim
