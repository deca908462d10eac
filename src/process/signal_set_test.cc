// Tests for signal_set: blocked runner signals are read synchronously, never delivered.
#include "process/signal_set.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace glr {
namespace {

class SignalSetTest : public ::testing::Test {
 protected:
  void SetUp() override { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  void TearDown() override { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  sigset_t saved_{};
};

TEST_F(SignalSetTest, BlockedSignalIsReadByWaitSignal) {
  block_runner_signals();
  // Blocked, so raising it leaves it pending instead of running the default action.
  ASSERT_EQ(raise(SIGHUP), 0);
  std::optional<int> sig = wait_signal(std::chrono::milliseconds(0));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(*sig, SIGHUP);
}

TEST_F(SignalSetTest, TimesOutWithoutSignal) {
  block_runner_signals();
  EXPECT_EQ(wait_signal(std::chrono::milliseconds(1)), std::nullopt);
}

TEST_F(SignalSetTest, BlocksTheFourRunnerSignalsAndIgnoresSigpipe) {
  block_runner_signals();
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) EXPECT_EQ(sigismember(&now, sig), 1) << sig;
  struct sigaction current {};
  sigaction(SIGPIPE, nullptr, &current);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace glr
