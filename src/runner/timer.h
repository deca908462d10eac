// A one-shot real-time timer on its own thread, for job and script deadlines.
// Destroying or cancelling it before it fires guarantees the callback never runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace glr {

class Timer {
 public:
  Timer() = default;
  Timer(std::chrono::nanoseconds delay, std::function<void()> fire) { start(delay, std::move(fire)); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  void start(std::chrono::nanoseconds delay, std::function<void()> fire) {
    cancel();
    thread_ = std::jthread([delay, fire = std::move(fire)](std::stop_token stop) {
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, stop, delay, [] { return false; }) && !stop.stop_requested()) fire();
    });
  }
  // Stops the timer; returns after the thread ended (the callback may have run).
  void cancel() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }

 private:
  std::jthread thread_;
};

}  // namespace glr
