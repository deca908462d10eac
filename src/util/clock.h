// Time as a seam (STYLE C6): production code sleeps and reads time only through
// Clock, so tests move time with FakeClock instead of sleeping.
#pragma once

#include <chrono>
#include <stop_token>

namespace glr {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (log timestamps, section markers, token rotation).
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time for deadlines and intervals.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Sleeps until `d` has passed or `stop` is requested. Returns false when stopped.
  virtual bool sleep_for(std::chrono::nanoseconds d, std::stop_token stop) = 0;
};

// The real clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  bool sleep_for(std::chrono::nanoseconds d, std::stop_token stop) override;
};

}  // namespace glr
