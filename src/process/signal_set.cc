// sigtimedwait-based signal reading for main (STYLE C6): no code runs in a handler.
#include "process/signal_set.h"

#include <signal.h>

#include <cerrno>

namespace glr {
namespace {

sigset_t runner_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGQUIT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void block_runner_signals() {
  sigset_t set = runner_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A closed socket or pipe must be an EPIPE error, not the death of the runner.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

std::optional<int> wait_signal(std::chrono::milliseconds timeout) {
  sigset_t set = runner_signals();
  if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig < 0) return std::nullopt;  // EAGAIN (timeout) or EINTR
  return sig;
}

}  // namespace glr
