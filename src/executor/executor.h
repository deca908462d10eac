// Runs stage scripts inside one job environment (a work directory, container or
// pod). It knows environments and scripts only; the job lifecycle lives in
// runner/JobRun (STYLE C2 "Executor"; official common/executor.go Prepare/Run/Cleanup).
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

#include "model/job_spec.h"
#include "trace/trace_sink.h"
#include "util/result.h"

namespace glr {

struct ExitStatus {
  int code = 0;    // valid when signal == 0
  int signal = 0;  // non-zero if the child was killed by a signal
  int as_shell_code() const { return signal != 0 ? 128 + signal : code; }
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// Per-stage input. `script` is the complete bash text for the stage (script/).
struct StageScript {
  std::string stage{};  // "get_sources", "step_script", "after_script", ...
  std::string script{};
  bool in_build_container = false;  // user steps and after_script; others are "predefined"
  // Environment for the process running the script, "KEY=VALUE" entries.
  std::vector<std::string> env{};
};

// What the engine must know about an executor before the job starts.
struct ExecutorTraits {
  std::string name{};                // "shell", "docker", "kubernetes"
  std::string shell = "bash";
  bool shared_builds_dir = false;    // builds_dir/<short token>/<project slot>/...
  bool disposable_environment = false;  // CI_DISPOSABLE_ENVIRONMENT vs CI_SHARED_ENVIRONMENT
  bool custom_build_dir_default = false;
  std::string default_builds_dir{};  // absolute
  std::string default_cache_dir{};
  std::string exit_error_prefix = "exit status";  // shell: "exit status N", docker: "exit code N"
  // The helper binary as the stage scripts must call it (executors §7.1); empty: the running
  // runner binary (shell). Container executors name the path inside the helper container.
  std::string helper_command{};
  // prepare_script prints "Running on <host> via <runner_hostname>..." when set (§7.1).
  std::string runner_hostname{};
  // Every stage script already runs in a fresh subshell of its own (ScriptContext).
  bool stage_in_subshell = false;
};

// A prepare() error whose message starts with this is the job's image failing to pull: the
// job fails with image_pull_failure and prepare is not retried (executors §7.4).
inline constexpr const char* kImagePullFailedPrefix = "image pull failed";

// Everything prepare() needs beyond the payload, resolved by the engine.
struct PrepareOptions {
  std::string builds_dir{};
  std::string project_dir{};
  std::string cache_dir{};
  std::string user{};  // `run --user`: run scripts as this OS user (shell executor)
  int concurrent_project_id = 0;  // CI_CONCURRENT_PROJECT_ID (pod names, executors §7.4)
  Variables variables{};          // the job's final variable list (executors §3.1)
  // The same list as "KEY=VALUE": service containers get it as their environment (docker).
  std::vector<std::string> job_env{};
  // Requested when the job is canceled or times out during prepare: long waits
  // (pods starting, services becoming ready) give up early.
  std::stop_token stop{};
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual const ExecutorTraits& traits() const = 0;
  // Creates the environment and prints the prepare_executor section body
  // (e.g. "Using Shell (bash) executor..."). Called once per job, before any script.
  virtual Result<> prepare(const JobSpec& job, const PrepareOptions& options, TraceSink& trace) = 0;
  // Runs one stage script to completion, streaming its output to `trace` on
  // kScriptStdout/kScriptStderr. A non-zero exit is a normal result, not an error.
  // When `stop` is requested the script's whole process tree is terminated
  // (SIGTERM, grace, SIGKILL) and the call returns kCanceled.
  virtual Result<ExitStatus> run(const StageScript& script, TraceSink& trace,
                                 std::stop_token stop) = 0;
  // Removes everything prepare() created. Never fails: problems are logged.
  virtual void cleanup() noexcept = 0;
  // Where a stage that is not `in_build_container` sees `path` (a builds or cache
  // directory of the job). Executors that run every stage in one environment keep it;
  // docker without a helper image runs those stages on the runner host, in a staging
  // copy of the build directory.
  virtual std::string predefined_path(const std::string& path) const { return path; }
};

}  // namespace glr
