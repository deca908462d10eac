// When each job of a local pipeline may start, and what its predecessors' results mean for it:
// GitLab's ProcessBuildService + Status::Composite rules (pipeline-yaml §9.1-§9.5), kept free
// of threads so the scheduling rules are tested as plain state changes (ninja's Plan).
#pragma once

#include <cstddef>
#include <vector>

#include "model/job_outcome.h"
#include "pipeline/pipeline_graph.h"

namespace glr {

enum class JobStatus {
  kCreated,   // waiting for its predecessors (or blocked by a blocking manual job)
  kRunning,
  kSuccess,
  kWarning,   // failed with allow_failure: "passed with warnings"
  kFailed,
  kCanceled,
  kSkipped,   // not run because of earlier results (or a multi-project trigger job)
  kManual,    // a manual job the user did not select
};
const char* to_string(JobStatus status);

enum class PipelineStatus { kSuccess, kSuccessWithWarnings, kFailed, kBlocked, kCanceled };
const char* to_string(PipelineStatus status);

// True when a job that ended with `outcome` counts as allowed to fail (§4.5): allow_failure
// true, or its exit code is one of allow_failure:exit_codes.
bool is_allowed_failure(const AllowFailure& allow, const JobOutcome& outcome);

// Not thread-safe: LocalRunner calls it under its own mutex.
class Plan {
 public:
  // `graph` must outlive the plan.
  explicit Plan(const PipelineGraph& graph);

  // Decides every created job whose predecessors are complete: jobs that must not run become
  // kSkipped or kManual (which may decide further jobs), and the jobs that may start now are
  // returned in graph order. They stay kCreated until start() is called, so calling ready()
  // again returns them again.
  std::vector<size_t> ready();
  // REQUIRES: `job` was returned by ready().
  void start(size_t job);
  // REQUIRES: `job` is running. `status` is kSuccess, kWarning, kFailed or kCanceled, or
  // kManual for a trigger job whose child pipeline is blocked (it stays pending, §10).
  void finish(size_t job, JobStatus status);
  // Marks every created job kCanceled (the run was stopped).
  void cancel_pending();

  JobStatus status(size_t job) const { return status_[job]; }
  bool has_running() const;
  // Meaningful once nothing runs and ready() is empty. Jobs still kCreated then are blocked.
  PipelineStatus result() const;

 private:
  enum class Previous { kWait, kSuccess, kFailed, kCanceled, kSkipped };
  Previous previous_status(size_t job) const;

  const PipelineGraph& graph_;
  std::vector<JobStatus> status_;
};

}  // namespace glr
