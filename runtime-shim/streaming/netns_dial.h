// Connecting to a TCP port on the loopback of another network namespace
// without socat or nsenter: a short-lived thread joins the namespace
// (setns(CLONE_NEWNET) affects only that thread), makes and connects the
// socket, and exits; the socket stays in the namespace it was made in.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::streaming {

// `netns_path` empty: the caller's own namespace. Tries 127.0.0.1, then ::1
// when IPv4 refuses. Returns a blocking, close-on-exec socket.
absl::StatusOr<int> DialLoopbackInNetns(const std::string& netns_path, uint16_t port,
                                        absl::Duration timeout = absl::Seconds(5));

}  // namespace berth::streaming
