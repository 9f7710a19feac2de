// The runtime's side of the shim control socket: one command line, one reply
// line. Small on purpose (no gRPC, no threads): the runtime links it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth {

// Connects to <bundle>/shim.sock (through /proc/self/fd, so a long bundle
// path does not hit sun_path's limit), sends `line` + "\n" and returns the
// reply line without its "\n" ("ok", "running 123", "error ..."). Transport
// failures and timeouts are errors naming the bundle; a reply of "error ..."
// is returned as text for the caller to interpret.
absl::StatusOr<std::string> ShimCommand(const std::string& bundle, const std::string& line,
                                        absl::Duration timeout);

// Connects to <bundle>/attach.sock (attach_protocol.h): a blocking,
// close-on-exec unix socket. FailedPrecondition when nobody listens there
// (the container has exited).
absl::StatusOr<int> ConnectAttachSocket(const std::string& bundle);

}  // namespace berth
