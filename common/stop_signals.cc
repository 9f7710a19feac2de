#include "common/stop_signals.h"

#include <pthread.h>

#include <cstdio>
#include <string>

namespace berth {

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop;
}

int WaitForStopSignal(const sigset_t& stop) {
  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  return sig;
}

int FailWith(absl::string_view program, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(), std::string(status.message()).c_str());
  return 1;
}

}  // namespace berth
