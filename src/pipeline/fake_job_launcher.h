// Test-only JobLauncher (STYLE C11 fakes): records which jobs ran in which order, returns
// scripted outcomes, and can hold jobs "running" until released, for concurrency tests
// without sleeps. Belongs in tests/support/ once the integrator moves it there.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pipeline/local_runner.h"

namespace glr {

class FakeJobLauncher final : public JobLauncher {
 public:
  // The job's script "exits" with `code` (0 = success).
  void set_exit_code(const std::string& job, int code) {
    std::lock_guard<std::mutex> lock(mu_);
    exit_codes_[job] = code;
  }
  // run() for `job` blocks until release(job), release_all() or stop.
  void hold(const std::string& job) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.insert(job);
  }
  void hold_all() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_all_ = true;
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mu_);
    held_.clear();
    hold_all_ = false;
    cv_.notify_all();
  }
  // Blocks until at least `n` jobs are inside run() at once.
  void wait_until_running(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ >= n; });
  }
  // The same, giving up after `limit`; false then (for checks that a job does not start).
  bool wait_until_running_for(int n, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return running_ >= n; });
  }

  LocalJobResult run(const LocalJob& job, std::stop_token stop) override {
    std::unique_lock<std::mutex> lock(mu_);
    started_.push_back(job.name);
    jobs_.push_back(job);
    ++running_;
    max_running_ = std::max(max_running_, running_);
    cv_.notify_all();
    cv_.wait(lock, stop, [&] { return !hold_all_ && held_.count(job.name) == 0; });
    --running_;
    finished_.push_back(job.name);
    LocalJobResult result{.outcome = {}, .duration = std::chrono::milliseconds(1500)};
    if (stop.stop_requested()) {
      result.outcome = JobOutcome{.state = JobState::kFailed,
                                  .reason = FailureReason::kJobCanceled,
                                  .message = "canceled"};
      return result;
    }
    auto it = exit_codes_.find(job.name);
    if (it != exit_codes_.end() && it->second != 0) {
      result.outcome = JobOutcome{.state = JobState::kFailed,
                                  .reason = FailureReason::kScriptFailure,
                                  .exit_code = it->second,
                                  .message = "exit code " + std::to_string(it->second)};
    }
    return result;
  }

  void announce(const LocalJob& job, std::string_view text) override {
    std::lock_guard<std::mutex> lock(mu_);
    announced_.push_back(display_name(job) + ": " + std::string(text));
  }

  std::vector<std::string> announced() const {
    std::lock_guard<std::mutex> lock(mu_);
    return announced_;
  }
  std::vector<std::string> started() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  std::vector<std::string> finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }
  std::vector<LocalJob> jobs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return jobs_;
  }
  int max_running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_running_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, int> exit_codes_;  // Guarded by mu_.
  std::set<std::string> held_;             // Guarded by mu_.
  bool hold_all_ = false;                  // Guarded by mu_.
  int running_ = 0;                        // Guarded by mu_.
  int max_running_ = 0;                    // Guarded by mu_.
  std::vector<std::string> started_;       // Guarded by mu_.
  std::vector<std::string> finished_;      // Guarded by mu_.
  std::vector<LocalJob> jobs_;             // Guarded by mu_.
  std::vector<std::string> announced_;     // Guarded by mu_.
};

}  // namespace glr
