// What berth's long-running binaries do first and last in main(): block the
// stop signals (SIGTERM, SIGINT) before any thread starts, so that every
// thread inherits the mask and only the waiting thread (sigwait or a
// signalfd) sees them; ignore SIGPIPE; and report a fatal error as
// "<program>: <message>" with exit status 1.
#pragma once

#include <signal.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace berth {

// Blocks SIGTERM and SIGINT in the calling thread, ignores SIGPIPE, and
// returns the blocked set.
sigset_t BlockStopSignals();

// Waits for one of `stop`; returns the signal's number.
int WaitForStopSignal(const sigset_t& stop);

// Prints "<program>: <status message>" on stderr; returns 1.
int FailWith(absl::string_view program, const absl::Status& status);

}  // namespace berth
