// Drives a local pipeline: starts the jobs the Plan allows on their own threads, up to a
// concurrency cap, through the JobLauncher seam (pipeline-yaml §9.6; STYLE C2 "Local mode").
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_outcome.h"
#include "model/job_spec.h"
#include "pipeline/pipeline_graph.h"
#include "pipeline/plan.h"

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
  friend bool operator==(const LocalJob&, const LocalJob&) = default;
};

struct LocalJobResult {
  JobOutcome outcome{};
  std::chrono::milliseconds duration{0};
  int attempts = 1;
  std::string coverage{};  // from the last log line matching `coverage:` (§11.2)
};

// Runs one job to completion (runner/JobRun + an executor in production, a fake in tests).
// Called from several threads at once: implementations must be thread-safe. A failing script
// is an outcome, not an exception; on `stop` the job should end quickly as canceled
// (FailureReason::kJobCanceled).
class JobLauncher {
 public:
  virtual ~JobLauncher() = default;
  virtual LocalJobResult run(const LocalJob& job, std::stop_token stop) = 0;
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
  std::vector<JobReport> jobs{};  // graph order
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

// Whether a job whose `attempt` (0 = first run) ended with the failure `outcome` runs again
// (pipeline-yaml §9.8): fewer than retry:max retries so far, and its reason is in retry:when
// (default always) or its exit code in retry:exit_codes (with exit_codes alone, only those).
bool should_retry(const std::optional<RetryDef>& retry, const JobOutcome& outcome, int attempt);

class LocalRunner {
 public:
  // `launcher` must outlive the runner. `concurrency` <= 0 means the number of CPUs.
  LocalRunner(JobLauncher& launcher, int concurrency);

  // Runs the pipeline; jobs[i] is what is launched for graph.jobs[i]. Returns when every job
  // is decided. When `stop` is requested no new job starts, running jobs get the stop, and
  // jobs not started are canceled. Used by one thread at a time.
  PipelineReport run(const PipelineGraph& graph, const std::vector<LocalJob>& jobs,
                     std::stop_token stop);

 private:
  JobLauncher& launcher_;
  size_t concurrency_;
};

// The final table (job, stage, status, duration), like gitlab-ci-local's summary, with ANSI
// colours when `color`.
std::string format_summary(const std::vector<JobReport>& jobs, bool color);

}  // namespace glr
