// Drives a local pipeline: starts the jobs the Plan allows on their own threads, up to a
// concurrency cap, through the JobLauncher seam (pipeline-yaml §9.6; STYLE C2 "Local mode").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_outcome.h"
#include "model/job_spec.h"
#include "pipeline/pipeline_graph.h"
#include "pipeline/plan.h"
#include "util/clock.h"
#include "util/result.h"

namespace glr {

struct LocalJob {
  std::string name{};
  std::string stage{};
  JobSpec spec{};
  // Jobs whose artifacts and dotenv variables this job receives, in download order
  // (pipeline-yaml §9.9); see artifact_sources().
  std::vector<std::string> artifact_sources{};
  // What this job keeps as artifacts once it ends (§4.8), nullopt when nothing.
  std::optional<ArtifactsDef> artifacts{};
  // Index in spec.variables where dotenv variables of the sources go (§7.1 #7: above job and
  // default variables, below command-line ones).
  size_t dotenv_position = 0;
  std::optional<RetryDef> retry{};  // §9.8
  std::string resource_group{};     // §9.7: one job per group runs at a time
  std::string coverage{};           // §11.2: `/regex/` searched in the log
  // The trigger path of the pipeline this job belongs to: empty in the pipeline `exec` was
  // asked to run, "deploy" in the child pipeline of trigger job `deploy`, "deploy -> sub" one
  // level further down (§10). Job names are unique only within one pipeline.
  std::string pipeline{};
  // A child-pipeline trigger job (§10): run through the Downstream seam, not the launcher.
  std::optional<TriggerDef> trigger{};
  // when: delayed (§4.4): how long the job waits once it may start. Zero: no wait.
  std::chrono::seconds start_in{0};
  friend bool operator==(const LocalJob&, const LocalJob&) = default;
};

// How a job is named in output and in the summary: its name, after "[<pipeline>] -> " for
// jobs of child pipelines (gitlab-ci-local's style).
std::string display_name(const LocalJob& job);

struct LocalJobResult {
  JobOutcome outcome{};
  std::chrono::milliseconds duration{0};
  int attempts = 1;
  std::string coverage{};  // from the last log line matching `coverage:` (§11.2)
  // A trigger job whose child pipeline is blocked by a manual job (§10: it stays pending).
  bool blocked = false;
};

// Runs one job to completion (runner/JobRun + an executor in production, a fake in tests).
// Called from several threads at once: implementations must be thread-safe. A failing script
// is an outcome, not an exception; on `stop` the job should end quickly as canceled
// (FailureReason::kJobCanceled).
class JobLauncher {
 public:
  virtual ~JobLauncher() = default;
  virtual LocalJobResult run(const LocalJob& job, std::stop_token stop) = 0;
  // Prints `text` (whole lines) as output of `job`, for what the runner itself has to say
  // about a job (a delay, a child pipeline). Thread-safe.
  virtual void announce(const LocalJob& /*job*/, std::string_view /*text*/) {}
  // The content of file `path` in the artifacts kept by job `producer` of the pipeline
  // `pipeline` (LocalJob::pipeline), for dynamic child pipelines (§10 include:artifact).
  virtual Result<std::string> artifact_file(const std::string& /*pipeline*/,
                                            const std::string& producer, const std::string& path) {
    return fail(ErrorKind::kNotFound,
                "job " + producer + " kept no artifact " + path);
  }
};

struct JobReport {
  std::string name{};
  std::string stage{};
  JobStatus status = JobStatus::kCreated;  // kCreated at the end means "blocked"
  std::chrono::milliseconds duration{0};
  int exit_code = 0;
  std::string message{};
  std::string coverage{};
  friend bool operator==(const JobReport&, const JobReport&) = default;
};

struct PipelineReport {
  PipelineStatus status = PipelineStatus::kSuccess;
  std::vector<JobReport> jobs{};  // graph order, each trigger job followed by its child's jobs
};

// Child pipelines (pipeline-yaml §10): builds the child pipeline of a trigger job and runs it,
// nested, to completion. Implemented by the exec glue, which knows how pipelines are loaded.
class Downstream {
 public:
  virtual ~Downstream() = default;
  // Creates the child pipeline of trigger job `job`, calls `created` once it exists (before
  // its jobs run), runs it and returns its report. An error means no child pipeline was
  // created; its message says why. Called from job threads: must be thread-safe.
  virtual Result<PipelineReport> run(const LocalJob& job, const std::function<void()>& created,
                                     std::stop_token stop) = 0;
};

// Places for jobs that run something, shared by the pipelines of one run (the parent and its
// child pipelines), so `--concurrency` caps the whole run. Trigger jobs, which only wait for
// their child pipeline, take none (a depend trigger holding one could starve its own child).
// Thread-safe.
class RunSlots {
 public:
  explicit RunSlots(size_t count) : free_(count) {}
  // Waits for a free place; false when `stop` is requested first.
  bool acquire(std::stop_token stop);
  void release();

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  size_t free_;  // Guarded by mu_.
};

// What LocalRunner needs besides the launcher; every pointer may be null.
struct LocalRunnerHooks {
  Downstream* downstream = nullptr;  // null: trigger jobs fail with "not supported"
  Clock* clock = nullptr;            // for start_in waits; null: delays are not waited
  RunSlots* slots = nullptr;         // null: only this pipeline's own cap
};

// Exit status of `glrunner exec` for a finished pipeline (pipeline-yaml §9.5 Local): 0 passed
// (with or without warnings), 1 failed, 2 blocked by a manual job, 130 canceled.
int exit_code_for(PipelineStatus status);

// The jobs of `graph` whose artifacts job `j` downloads (pipeline-yaml §9.9): dependencies: []
// none; with needs the needed jobs whose need does not say artifacts: false; without needs every
// job of an earlier stage; a non-empty `dependencies` keeps only the jobs it names (or whose
// parallel base it names). Graph order. `configs[i]` is the config of graph.jobs[i].
std::vector<std::string> artifact_sources(const PipelineGraph& graph,
                                          const std::vector<const JobConfig*>& configs, size_t j);

// The coverage `line` gives under the job's `coverage:` regex (written `/.../`, a leading
// `(?i)` means case-insensitive), or nullopt when it does not match (pipeline-yaml §11.2): the
// last match in the line (its last capture group when the regex has groups, as GitLab's
// scan.flatten.last), and in it the first number, leading zeros removed.
std::optional<std::string> coverage_in_line(std::string_view regex, std::string_view line);
// The same with the regex compiled once by coverage_regex() (nullopt when it does not compile):
// a job's log is scanned line by line, so the caller compiles once per job, not once per line.
std::optional<std::regex> coverage_regex(std::string_view regex);
std::optional<std::string> coverage_in_line(const std::regex& re, std::string_view line);

// Whether a job whose `attempt` (0 = first run) ended with the failure `outcome` runs again
// (pipeline-yaml §9.8): fewer than retry:max retries so far, and its reason is in retry:when
// (default always) or its exit code in retry:exit_codes (with exit_codes alone, only those).
bool should_retry(const std::optional<RetryDef>& retry, const JobOutcome& outcome, int attempt);

class LocalRunner {
 public:
  // `launcher` (and the hooks) must outlive the runner. `concurrency` <= 0 means the number
  // of CPUs.
  LocalRunner(JobLauncher& launcher, int concurrency, LocalRunnerHooks hooks = {});

  // Runs the pipeline; jobs[i] is what is launched for graph.jobs[i]. Returns when every job
  // is decided. When `stop` is requested no new job starts, running jobs get the stop, and
  // jobs not started are canceled. A trigger job without `strategy: depend` is done once its
  // child pipeline exists; run() still returns only after every child pipeline ended. A job
  // with `start_in` waits that long (through the clock) after it may start. Used by one thread
  // at a time.
  PipelineReport run(const PipelineGraph& graph, const std::vector<LocalJob>& jobs,
                     std::stop_token stop);

 private:
  LocalJobResult run_trigger(const LocalJob& job, const std::function<void(LocalJobResult)>& done,
                             std::vector<JobReport>& child_jobs, std::stop_token stop);

  JobLauncher& launcher_;
  size_t concurrency_;
  LocalRunnerHooks hooks_;
};

// The final table (job, stage, status, duration), like gitlab-ci-local's summary, with ANSI
// colours when `color`.
std::string format_summary(const std::vector<JobReport>& jobs, bool color);

}  // namespace glr
