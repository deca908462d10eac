// The attach strategy's log processor (executors §7.4): stage output is appended to one log
// file in the pod, and this reads it back through `gitlab-runner-helper read-logs` exec'ed in
// the helper container, resuming from the last byte offset whenever the stream drops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kubernetes/kube_api.h"

namespace glr::kube {

// A `{"script": ...}` / `{"command_exit_code": N, "script": ...}` line the stage script's
// traps print (executors §7.1).
struct StageStatus {
  std::string script{};
  std::optional<int> exit_code{};
  friend bool operator==(const StageStatus&, const StageStatus&) = default;
};
std::optional<StageStatus> parse_stage_status(std::string_view line);

// One "<offset> <text>" line of read-logs: the offset after the line and the text (with its
// newline); offset -1 for a line without one.
std::pair<int64_t, std::string> parse_offset_line(std::string_view line);

struct LogEvent {
  std::string text{};                  // a job log line (with its newline); empty for the others
  std::optional<StageStatus> status{};  // a marker line, not written to the job log
  std::string error{};                 // reading the log keeps failing
};

// Runs its own thread from start() until the destructor (or stop()). Events are taken by the
// job thread, so only the job thread writes the job trace.
class LogProcessor {
 public:
  struct Options {
    std::string ns{};
    std::string pod{};
    std::string container = "helper";
    std::string log_path{};
    std::chrono::milliseconds backoff_min{1000};
    std::chrono::milliseconds backoff_max{30000};
    // Consecutive streams that fail without a single line before an error event is queued
    // (the processor keeps trying; the waiting stage decides).
    int failures_before_error = 5;
  };

  LogProcessor(KubeApi& api, Options options);
  ~LogProcessor();
  LogProcessor(const LogProcessor&) = delete;
  LogProcessor& operator=(const LogProcessor&) = delete;

  void start();
  void stop();
  // Waits until an event is queued, `timeout` passed or `stop` fired; returns what is queued.
  std::vector<LogEvent> take(std::chrono::milliseconds timeout, std::stop_token stop);
  // The last marker seen (the stage running or finished in the pod).
  std::optional<StageStatus> last_status() const;
  int64_t offset() const;

 private:
  void run(std::stop_token stop);
  void push(LogEvent event);

  KubeApi& api_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<LogEvent> events_;
  std::optional<StageStatus> last_status_;
  int64_t offset_ = 0;
  std::jthread thread_;
};

}  // namespace glr::kube
