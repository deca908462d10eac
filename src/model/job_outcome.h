// How a job ended, and the failure-reason vocabulary of api spec §4.3.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glr {

enum class FailureReason {
  kNone,
  kScriptFailure,
  kRunnerSystemFailure,
  kJobExecutionTimeout,
  kImagePullFailure,
  kUnknownFailure,
  kRunnerConfigurationError,
  kRunnerExternalDependencyFailure,
  kRunnerInterrupted,
  kJobCanceled,
};

std::string_view to_string(FailureReason reason);
std::optional<FailureReason> parse_failure_reason(std::string_view text);

// Maps a runner-internal reason onto what the server accepts (api spec §4.3):
// the list is the payload's features.failure_reasons; script_failure,
// runner_system_failure and job_execution_timeout are always accepted.
std::string map_failure_reason(FailureReason reason,
                               const std::vector<std::string>& server_supported);

enum class JobState { kRunning, kSuccess, kFailed };

struct JobOutcome {
  JobState state = JobState::kSuccess;
  FailureReason reason = FailureReason::kNone;
  int exit_code = 0;      // non-zero script exit code, reported in the final PUT
  std::string message{};  // the text after "ERROR: Job failed: "
  friend bool operator==(const JobOutcome&, const JobOutcome&) = default;
};

}  // namespace glr
