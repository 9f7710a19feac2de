// Test support for CNI tests: a private "host" network namespace for the
// test thread (so bridges and addresses exist only there), pod namespaces
// pinned by bind mounts, and running code inside one of them. Used by the
// CNI client's and berth's plugins' integration tests.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::cni::testing {

// Moves the calling thread into a new network namespace; returns an fd of
// the one it left, for LeavePrivateNetns. Plugins the thread spawns inherit it.
absl::StatusOr<int> EnterPrivateNetns();

// Returns the thread to the namespace `original_fd` names and closes it;
// the private namespace (and its bridges and veths) goes away.
absl::Status LeavePrivateNetns(int original_fd);

// Makes a new network namespace on a short-lived thread and pins it at
// `path` (created as a file). Unpin with umount2(path, MNT_DETACH).
absl::Status PinNewNetns(const std::string& path);

// Runs `fn` on a fresh thread that first joins the net namespace at `netns`;
// a failure to join is a test failure.
void InNetns(const std::string& netns, const std::function<void()>& fn);

}  // namespace berth::cni::testing
