// SystemClock: interruptible sleeps through condition_variable_any + stop_token.
#include "util/clock.h"

#include <condition_variable>
#include <mutex>

namespace glr {

std::chrono::system_clock::time_point SystemClock::now() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::steady_now() const {
  return std::chrono::steady_clock::now();
}

bool SystemClock::sleep_for(std::chrono::nanoseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // wait_for returns the predicate: true means a stop was requested.
  return !cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace glr
