// The decision table of pipeline-yaml §9.4, one job at a time, re-evaluated after every change.
#include "pipeline/plan.h"

#include <algorithm>

namespace glr {

const char* to_string(JobStatus status) {
  switch (status) {
    case JobStatus::kCreated: return "created";
    case JobStatus::kRunning: return "running";
    case JobStatus::kSuccess: return "success";
    case JobStatus::kWarning: return "failed (allowed)";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCanceled: return "canceled";
    case JobStatus::kSkipped: return "skipped";
    case JobStatus::kManual: return "manual";
  }
  return "created";
}

const char* to_string(PipelineStatus status) {
  switch (status) {
    case PipelineStatus::kSuccess: return "passed";
    case PipelineStatus::kSuccessWithWarnings: return "passed with warnings";
    case PipelineStatus::kFailed: return "failed";
    case PipelineStatus::kBlocked: return "blocked";
    case PipelineStatus::kCanceled: return "canceled";
  }
  return "failed";
}

bool is_allowed_failure(const AllowFailure& allow, const JobOutcome& outcome) {
  if (allow.allowed) return true;
  // exit_codes only apply when the script produced an exit code (§4.5).
  return outcome.exit_code != 0 &&
         std::find(allow.exit_codes.begin(), allow.exit_codes.end(), outcome.exit_code) !=
             allow.exit_codes.end();
}

Plan::Plan(const PipelineGraph& graph)
    : graph_(graph), status_(graph.jobs.size(), JobStatus::kCreated) {}

Plan::Previous Plan::previous_status(size_t job) const {
  const GraphJob& me = graph_.jobs[job];
  std::vector<size_t> preds;
  if (me.needs) {
    preds = *me.needs;
  } else {
    for (size_t i = 0; i < graph_.jobs.size(); ++i) {
      if (graph_.jobs[i].stage_index < me.stage_index) preds.push_back(i);
    }
  }
  if (preds.empty()) return Previous::kSuccess;
  bool incomplete = false, failed = false, canceled = false, all_skipped = true,
       any_skipped = false;
  for (size_t p : preds) {
    const GraphJob& pred = graph_.jobs[p];
    switch (status_[p]) {
      case JobStatus::kCreated:
      case JobStatus::kRunning:
        incomplete = true;
        all_skipped = false;
        break;
      case JobStatus::kManual:
        // An optional manual job is ignored; a blocking one keeps its successors waiting.
        if (pred.allow_failure.allowed) {
          any_skipped = true;
        } else {
          incomplete = true;
          all_skipped = false;
        }
        break;
      case JobStatus::kSkipped:
        any_skipped = true;
        break;
      case JobStatus::kSuccess:
      case JobStatus::kWarning:
        all_skipped = false;
        break;
      case JobStatus::kFailed:
        failed = true;
        all_skipped = false;
        break;
      case JobStatus::kCanceled:
        all_skipped = false;
        if (!pred.allow_failure.allowed) canceled = true;
        break;
    }
  }
  // A DAG job is decided as soon as one need is skipped or ignored (§9.4 item 4).
  if (me.needs && any_skipped) return Previous::kSkipped;
  if (incomplete) return Previous::kWait;
  if (all_skipped) return Previous::kSkipped;
  if (failed) return Previous::kFailed;
  if (canceled) return Previous::kCanceled;
  return Previous::kSuccess;
}

std::vector<size_t> Plan::ready() {
  std::vector<size_t> out;
  bool changed = true;
  while (changed) {
    changed = false;
    out.clear();
    for (size_t j = 0; j < graph_.jobs.size(); ++j) {
      if (status_[j] != JobStatus::kCreated) continue;
      Previous prev = previous_status(j);
      if (prev == Previous::kWait) continue;
      const GraphJob& job = graph_.jobs[j];
      bool start = false;
      switch (job.when) {
        case When::kOnSuccess:
        case When::kManual:
        case When::kDelayed:
          start = prev == Previous::kSuccess || (prev == Previous::kSkipped && !job.needs);
          break;
        case When::kOnFailure:
          start = prev == Previous::kFailed;
          break;
        case When::kAlways:
          start = prev != Previous::kCanceled;
          break;
        case When::kNever:
          start = false;
          break;
      }
      JobStatus decided = JobStatus::kCreated;
      if (!start) {
        decided = JobStatus::kSkipped;
      } else if (job.when == When::kManual && !job.selected) {
        decided = JobStatus::kManual;
      } else if (job.trigger) {
        decided = JobStatus::kSkipped;
      }
      if (decided != JobStatus::kCreated) {
        status_[j] = decided;
        changed = true;  // may decide later jobs; start over
        break;
      }
      out.push_back(j);
    }
  }
  return out;
}

void Plan::start(size_t job) { status_[job] = JobStatus::kRunning; }

void Plan::finish(size_t job, JobStatus status) { status_[job] = status; }

void Plan::cancel_pending() {
  for (JobStatus& s : status_) {
    if (s == JobStatus::kCreated) s = JobStatus::kCanceled;
  }
}

bool Plan::has_running() const {
  return std::find(status_.begin(), status_.end(), JobStatus::kRunning) != status_.end();
}

PipelineStatus Plan::result() const {
  bool warnings = false, canceled = false, blocked = false;
  for (size_t j = 0; j < status_.size(); ++j) {
    switch (status_[j]) {
      case JobStatus::kFailed:
        return PipelineStatus::kFailed;
      case JobStatus::kWarning:
        warnings = true;
        break;
      case JobStatus::kCanceled:
        if (graph_.jobs[j].allow_failure.allowed) {
          warnings = true;
        } else {
          canceled = true;
        }
        break;
      case JobStatus::kCreated:
      case JobStatus::kRunning:
        blocked = true;
        break;
      case JobStatus::kManual:
        if (!graph_.jobs[j].allow_failure.allowed) blocked = true;
        break;
      default:
        break;
    }
  }
  if (canceled) return PipelineStatus::kCanceled;
  if (blocked) return PipelineStatus::kBlocked;
  return warnings ? PipelineStatus::kSuccessWithWarnings : PipelineStatus::kSuccess;
}

}  // namespace glr
