// Deleting stale conntrack entries for a UDP host port, as the reference
// portmap does on ADD: a UDP "connection" to the port seen before the
// mapping existed (a client retrying, or the previous pod's) would
// otherwise keep bypassing the DNAT until it times out.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace berth::portmap {

// Deletes every conntrack entry of the calling thread's network namespace
// whose original tuple is UDP to destination port `port`, for `family`
// (AF_INET or AF_INET6), over ctnetlink. Returns how many were deleted.
absl::StatusOr<int> DeleteUdpConntrackToPort(int family, uint16_t port);

}  // namespace berth::portmap
