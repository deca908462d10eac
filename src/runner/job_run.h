// JobRun is the one place that knows the stage order and the outcome rules of a
// job (STYLE C2 "Job"; executors §1). It holds no sockets and no pids: scripts
// come from script/, run through an Executor, and land in a TraceBuffer.
#pragma once

#include <atomic>
#include <functional>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "config/runner_config.h"
#include "executor/executor.h"
#include "model/job_outcome.h"
#include "model/job_spec.h"
#include "script/bash_script.h"
#include "script/build_settings.h"
#include "script/feature_flags.h"
#include "script/job_variables.h"
#include "trace/trace_buffer.h"
#include "util/clock.h"
#include "util/result.h"
#include "runner/timer.h"

namespace glr {

// The distributed cache (executors §5.6): presigned URLs for `key` of `project_id`, valid for
// `expires`, under the runner's [runners.cache]; nullopt = local cache only. Built by cli/.
using RemoteCacheProvider = std::function<std::optional<RemoteCacheUrls>(
    const RunnerSettings& runner, int64_t project_id, const std::string& key,
    std::chrono::seconds expires)>;

struct JobRunConfig {
  RunnerSettings runner{};            // the [[runners]] entry that took the job
  std::string system_id{};
  int concurrent_id = 0;              // CI_CONCURRENT_ID
  int concurrent_project_id = 0;      // CI_CONCURRENT_PROJECT_ID
  std::string helper_command{};       // absolute path of this binary (cache/artifact helpers)
  RemoteCacheProvider remote_cache{};  // empty = local cache only
  std::string user{};                 // `run --user`
  std::string correlation_id{};       // job request's X-Request-Id (FF_USE_GITALY_CORRELATION_ID)
  // Local mode: the working tree is the project dir (no builds-dir layout).
  std::string project_dir_override{};
  // Local mode: where file variables and GITLAB_ENV live (default <project dir>.tmp).
  std::string tmp_dir_override{};
  std::chrono::seconds prepare_retry_delay{3};
  // Called on the job thread whenever a new stage starts (metrics, debug list).
  std::function<void(const std::string& stage)> on_stage{};
  // Local mode (`exec`): artifacts move between the run's jobs in-process, not through the
  // helper scripts. Each hook returns the work of its stage (download_artifacts after sources
  // and caches; upload_artifacts_on_success/on_failure after the cache) or nothing, and the
  // stage is then skipped as an empty script stage is. The work writes its lines to the
  // trace, inside the stage's section and header.
  using LocalStageWork = std::function<void(TraceSink&)>;
  std::function<std::optional<LocalStageWork>()> local_download{};
  std::function<std::optional<LocalStageWork>(bool job_succeeded)> local_upload{};
  // Local mode: cleanup_file_variables as in-process work. `exec` deletes the job's own
  // directory after the job, so the stage's script would only remove files that are about to
  // go with it; the header is printed all the same.
  std::function<std::optional<LocalStageWork>()> local_cleanup{};
  // Local mode: the project directory already holds the job's sources (exec's copy of the
  // working tree). get_sources is then printed, not run, whenever its script would only
  // print (get_sources_print_only: GIT_STRATEGY=none and nothing else to set up).
  bool local_sources = false;
  // Local mode: prepare_script printed, not run: "Running on <this>..." (the $HOSTNAME its
  // shell would have), with the two stale files it removes removed in-process. Empty: the
  // script runs.
  std::string local_prepare_host{};
};

class JobRun {
 public:
  // `executor` and `clock` must outlive this object. Computes variables, settings
  // and directories at once (pure); problems are reported by execute().
  JobRun(JobSpec job, Executor& executor, Clock& clock, JobRunConfig config);
  JobRun(const JobRun&) = delete;
  JobRun& operator=(const JobRun&) = delete;

  // Options for the job's TraceBuffer (masked values, timestamps, output limit).
  TraceOptions trace_options() const;
  bool debug_trace() const { return settings_.debug_trace; }
  const JobSpec& job() const { return job_; }
  const Variables& variables() const { return vars_.list; }

  // Runs every stage, the executor cleanup, and writes the final status line.
  // Used only by the job thread.
  JobOutcome execute(TraceBuffer& trace);

  // Thread-safe controls, callable at any time from any thread.
  void cancel_gracefully();                     // Job-Status: canceling (§1.6.1)
  void abort();                                 // Job-Status: canceled/failed, 403 (§1.6.2)
  void interrupt(const std::string& signal_name);  // runner shutdown (§1.6.3): "terminated"

  // The stage currently running ("step_script"), for metrics and /debug/jobs/list.
  std::string current_stage() const;

 private:
  enum class StopCause { kNone, kTimeout, kCanceled, kAborted, kInterrupted };
  struct StageFailure {
    FailureReason reason = FailureReason::kScriptFailure;
    std::string message{};
    int exit_code = 0;
  };
  using StageResult = std::optional<StageFailure>;  // nullopt: the stage succeeded or was skipped

  StageResult run_stage(StageKind kind, const std::string& step_name, TraceBuffer& trace,
                        std::stop_token stop, const std::string& job_status = "running");
  StageResult run_with_attempts(StageKind kind, int attempts, TraceBuffer& trace);
  // Marks `name` as the current stage, opens its section and prints its header; returns
  // whether sections are on (the caller closes it).
  bool open_stage(const std::string& name, const std::string& header, TraceBuffer& trace);
  // A stage whose work is done in-process (JobRunConfig::local_*): section, header, work.
  // get_sources output when config_.local_sources and the script would only print.
  std::optional<std::string> printed_sources() const;
  // prepare_script output when config_.local_prepare_host is set and its files could go.
  std::optional<std::string> printed_prepare() const;
  // A stage whose script would only print `output`: header, output, section end.
  void run_printed_stage(StageKind kind, const std::string& output, TraceBuffer& trace);
  void run_local_stage(StageKind kind, const JobRunConfig::LocalStageWork& work,
                       TraceBuffer& trace);
  StageResult run_user_steps(TraceBuffer& trace);
  void run_after_script(const StageResult& job_error, TraceBuffer& trace);
  StageResult prepare_executor(TraceBuffer& trace);
  JobOutcome finish(const StageResult& error, TraceBuffer& trace);
  StageFailure failure_from_stop() const;
  void write_header(TraceBuffer& trace);
  std::chrono::seconds job_timeout() const;
  ScriptContext script_context(const std::string& job_status) const;

  JobSpec job_;
  Executor& executor_;
  Clock& clock_;
  JobRunConfig config_;
  Result<BuildDirs> dirs_;
  JobVariables vars_{};
  BuildSettings settings_{};

  std::stop_source job_stop_;     // timeout, hard abort, interrupt
  std::stop_source script_stop_;  // graceful cancel during user steps
  std::atomic<StopCause> cause_{StopCause::kNone};
  std::atomic<bool> graceful_cancel_{false};
  std::atomic<int> phase_{0};     // 0 before user steps, 1 during, 2 after (§1.6)
  std::string interrupt_signal_ = "terminated";  // Guarded by mu_.
  std::string current_stage_;                    // Guarded by mu_.
  mutable std::mutex mu_;
};

std::string exit_error_message(const ExecutorTraits& traits, const ExitStatus& status);

}  // namespace glr
