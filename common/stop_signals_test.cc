#include "common/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(StopSignalsTest, BlockedSetIsWaitedForAndInheritedByThreads) {
  sigset_t stop = BlockStopSignals();
  EXPECT_TRUE(sigismember(&stop, SIGTERM));
  EXPECT_TRUE(sigismember(&stop, SIGINT));
  struct sigaction pipe_action;
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &pipe_action), 0);
  EXPECT_EQ(pipe_action.sa_handler, SIG_IGN);
  // A thread started afterwards has them blocked too.
  bool thread_blocked = false;
  std::thread([&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    thread_blocked = sigismember(&mask, SIGTERM) == 1;
  }).join();
  EXPECT_TRUE(thread_blocked);
  // The signal waits, pending, until asked for.
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(WaitForStopSignal(stop), SIGTERM);
}

TEST(StopSignalsTest, FailWithReturnsOne) {
  EXPECT_EQ(FailWith("prog", absl::InvalidArgumentError("bad")), 1);
}

}  // namespace
}  // namespace berth
