// Failure-reason names and the server-compatibility mapping (api spec §4.3).
#include "model/job_outcome.h"

#include <algorithm>

namespace glr {

std::string_view to_string(FailureReason reason) {
  switch (reason) {
    case FailureReason::kNone: return "";
    case FailureReason::kScriptFailure: return "script_failure";
    case FailureReason::kRunnerSystemFailure: return "runner_system_failure";
    case FailureReason::kJobExecutionTimeout: return "job_execution_timeout";
    case FailureReason::kImagePullFailure: return "image_pull_failure";
    case FailureReason::kUnknownFailure: return "unknown_failure";
    case FailureReason::kRunnerConfigurationError: return "runner_configuration_error";
    case FailureReason::kRunnerExternalDependencyFailure:
      return "runner_external_dependency_failure";
    case FailureReason::kRunnerInterrupted: return "runner_interrupted";
    case FailureReason::kJobCanceled: return "job_canceled";
  }
  return "unknown_failure";
}

std::optional<FailureReason> parse_failure_reason(std::string_view text) {
  for (FailureReason r :
       {FailureReason::kScriptFailure, FailureReason::kRunnerSystemFailure,
        FailureReason::kJobExecutionTimeout, FailureReason::kImagePullFailure,
        FailureReason::kUnknownFailure, FailureReason::kRunnerConfigurationError,
        FailureReason::kRunnerExternalDependencyFailure, FailureReason::kRunnerInterrupted,
        FailureReason::kJobCanceled}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::string map_failure_reason(FailureReason reason,
                               const std::vector<std::string>& server_supported) {
  auto supported = [&](FailureReason r) {
    if (r == FailureReason::kScriptFailure || r == FailureReason::kRunnerSystemFailure ||
        r == FailureReason::kJobExecutionTimeout)
      return true;
    std::string_view name = to_string(r);
    return std::find(server_supported.begin(), server_supported.end(), name) !=
           server_supported.end();
  };
  if (reason == FailureReason::kNone) return "script_failure";
  FailureReason r = reason;
  while (true) {
    if (supported(r)) return std::string(to_string(r));
    switch (r) {
      case FailureReason::kImagePullFailure: r = FailureReason::kRunnerSystemFailure; continue;
      case FailureReason::kRunnerConfigurationError: r = FailureReason::kScriptFailure; continue;
      case FailureReason::kRunnerExternalDependencyFailure:
        r = FailureReason::kRunnerSystemFailure;
        continue;
      default: return "unknown_failure";
    }
  }
}

}  // namespace glr
