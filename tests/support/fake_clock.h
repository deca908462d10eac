// FakeClock: time moves only when a test (or a sleeping caller) moves it, so no
// test sleeps (STYLE C11). sleep_for advances time instantly and records the wait.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>
#include <vector>

#include "util/clock.h"

namespace glr {

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  bool sleep_for(std::chrono::nanoseconds d, std::stop_token stop) override {
    if (stop.stop_requested()) return false;
    std::lock_guard lock(mu_);
    sleeps_.push_back(d);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    steady_ += d;
    return true;
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    steady_ += d;
  }
  std::vector<std::chrono::nanoseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  // 2025-08-21T09:55:02Z, a fixed start so logs are reproducible.
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1755770102)};
  std::chrono::steady_clock::time_point steady_{};
  std::vector<std::chrono::nanoseconds> sleeps_;  // Guarded by mu_.
};

}  // namespace glr
