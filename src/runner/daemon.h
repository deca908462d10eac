// The job loop of `run` and `run-single` (api spec §2.5): a feeder cycling over
// the configured runners, `concurrent` workers that each request a job and run it
// synchronously, per-runner limit / request-concurrency gates, health tracking,
// and the shutdown semantics of §10.1.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "config/runner_config.h"
#include "gitlab/gitlab_client.h"
#include "metrics/metrics.h"
#include "runner/executor_factory.h"
#include "runner/job_run.h"
#include "runner/job_slots.h"
#include "util/clock.h"

namespace glr {

class JobRun;

struct DaemonOptions {
  std::string system_id{};
  std::string helper_command{};
  RemoteCacheProvider remote_cache{};  // [runners.cache] presigned URLs; empty = local only
  std::string user{};
  int max_builds = 0;  // run-single: stop after this many jobs (0 = unlimited)
  // run-single: stop when no job arrived for this long (0 = wait forever).
  std::chrono::seconds wait_timeout{0};
  RunnerMetrics* metrics = nullptr;  // optional; must outlive the daemon
};

// One line of /debug/jobs/list and the jobs gauge.
struct RunningJobInfo {
  int64_t job_id = 0;
  std::string url{};  // <project URL>/-/jobs/<id>
  std::string runner_short_token{};
  std::string stage{};
  std::chrono::steady_clock::duration duration{};
};

struct DaemonStats {
  int64_t jobs_received = 0;
  int64_t jobs_finished = 0;
  int64_t requests = 0;
};

class Daemon {
 public:
  // `gitlab`, `executors` and `clock` must outlive the daemon.
  Daemon(GitLabClient& gitlab, ExecutorFactory& executors, Clock& clock, GlobalConfig config,
         DaemonOptions options);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  void start();
  // SIGQUIT: stop asking for new jobs, let running jobs and in-flight requests end
  // (a job GitLab assigns to a request already in flight is still run, never dropped).
  void stop_graceful();
  // SIGTERM/SIGINT: cancel requests, interrupt running jobs (runner_interrupted);
  // they still send their final update.
  void stop_forceful(const std::string& signal_name);
  // Waits until every worker has exited. Returns false on timeout.
  bool wait(std::chrono::milliseconds timeout);
  // True once max_builds or wait_timeout ended a run-single daemon by itself.
  bool finished_by_itself() const { return self_stopped_.load(); }
  // Applies a reloaded configuration to the next feed cycle; resizes the workers.
  void reload(GlobalConfig config);

  std::vector<RunningJobInfo> running_jobs() const;
  DaemonStats stats() const;

 private:
  struct RunnerState {
    std::string last_update{};
    int builds = 0;          // running jobs + in-flight requests (the `limit` gate)
    int requests = 0;        // in-flight job requests
    double adaptive = 0;     // adaptive request concurrency (§2.5)
    int unhealthy_count = 0;
    std::chrono::steady_clock::time_point last_healthy{};
    bool seen = false;
  };
  struct Running {
    JobRun* run = nullptr;
    int64_t job_id = 0;
    std::string short_token{};
    std::string url{};
    std::chrono::steady_clock::time_point started{};
  };

  void feed(std::stop_token stop);
  void work(std::stop_token stop, int index);
  void process(const RunnerSettings& runner);
  void run_job(const RunnerSettings& runner, JobSpec job, const RunnerInfoPayload& info,
               const std::string& correlation_id);
  void finish_payload_error(const RunnerSettings& runner, const RunnerInfoPayload& info,
                            const JobSpec& job, const std::vector<std::string>& errors);
  bool is_healthy(const RunnerSettings& runner);
  RunnerCredentials credentials(const RunnerSettings& runner) const;
  RunnerIdentity identity(const RunnerSettings& runner) const;
  std::shared_ptr<const GlobalConfig> config() const;
  void ensure_workers();
  void note_job_done();

  GitLabClient& gitlab_;
  ExecutorFactory& executors_;
  Clock& clock_;
  DaemonOptions options_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::shared_ptr<const GlobalConfig> config_;          // Guarded by mu_.
  std::map<std::string, RunnerState> runner_state_;     // Guarded by mu_. Key: url + token.
  std::deque<RunnerSettings> handoff_;                  // Guarded by mu_.
  int idle_workers_ = 0;                                // Guarded by mu_.
  int live_workers_ = 0;                                // Guarded by mu_.
  std::vector<Running> running_;                        // Guarded by mu_.
  DaemonStats stats_{};                                 // Guarded by mu_.
  std::chrono::steady_clock::time_point last_job_at_{}; // Guarded by mu_.
  std::string interrupt_signal_;                        // Guarded by mu_.

  std::atomic<bool> feeding_{true};
  std::atomic<bool> forceful_{false};
  std::atomic<bool> self_stopped_{false};
  std::stop_source requests_stop_;  // aborts in-flight job requests (forceful only)
  std::stop_source final_stop_;     // abandons final updates (never in normal operation)
  JobSlots slots_;
  std::jthread feeder_;
  std::vector<std::jthread> workers_;  // only touched by start()/reload()/wait()/dtor
};

}  // namespace glr
