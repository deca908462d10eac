// Streams a job's TraceBuffer to GitLab (api spec §5.3) and sends the final job
// update (§4.4). Owns one watcher thread; TraceBuffer is the only object shared
// with the job thread (STYLE C6).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "gitlab/gitlab_client.h"
#include "trace/trace_buffer.h"
#include "util/clock.h"

namespace glr {

struct TraceUploaderOptions {
  int64_t job_id = 0;
  Secret job_token{};
  bool debug_trace = false;
  int final_update_retry_limit = 10;
  std::chrono::seconds force_send_interval{30};
  std::chrono::seconds default_update_interval{3};
  std::chrono::seconds max_update_interval{15 * 60};
  int64_t max_patch_bytes = 1024 * 1024;
};

// Called from the watcher thread when GitLab asks to stop the job.
struct TraceUploaderCallbacks {
  std::function<void()> on_cancel_requested{};  // Job-Status: canceling (graceful)
  std::function<void()> on_abort{};             // canceled/failed/403: stop hard
};

enum class FinalUpdateStatus { kSucceeded, kAborted, kNotFound, kGaveUp };

class TraceUploader {
 public:
  // `client`, `runner`, `info`, `trace` and `clock` must outlive this object.
  TraceUploader(GitLabClient& client, const RunnerCredentials& runner,
                const RunnerInfoPayload& info, const TraceBuffer& trace, Clock& clock,
                TraceUploaderOptions options, TraceUploaderCallbacks callbacks);
  TraceUploader(const TraceUploader&) = delete;
  TraceUploader& operator=(const TraceUploader&) = delete;
  ~TraceUploader();

  // Starts the periodic watcher (PATCH every update interval, keep-alive PUTs).
  void start();
  // Stops the watcher, then flushes the rest of the log and sends the final PUT
  // with the §4.4 retry loops. `stop` abandons the attempt (process exit).
  FinalUpdateStatus finish(const UpdateJobRequest& final_state, std::stop_token stop);

  int64_t sent_offset() const { return sent_offset_.load(); }
  std::chrono::seconds update_interval() const { return std::chrono::seconds(interval_s_.load()); }

 private:
  enum class SendResult { kDone, kAbort, kNotFound, kFailed };
  void watch(std::stop_token stop);
  // One PATCH of at most max_patch_bytes from sent_offset_. Returns false when
  // there was nothing to send.
  PatchKind patch_once(std::stop_token stop, bool* sent_something);
  SendResult flush_all(std::stop_token stop);
  void apply_interval(std::chrono::seconds interval);
  void touch_if_due(std::stop_token stop);

  GitLabClient& client_;
  const RunnerCredentials& runner_;
  const RunnerInfoPayload& info_;
  const TraceBuffer& trace_;
  Clock& clock_;
  TraceUploaderOptions options_;
  TraceUploaderCallbacks callbacks_;
  std::atomic<int64_t> sent_offset_{0};
  std::atomic<int64_t> interval_s_{3};
  std::atomic<bool> aborted_{false};
  std::chrono::steady_clock::time_point last_sent_{};  // Used only by the watcher thread.
  std::mutex send_mu_;  // serialises PATCHes between the watcher and finish()
  std::jthread watcher_;
};

}  // namespace glr
