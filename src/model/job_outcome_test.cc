// Failure reasons are mapped down to what the server knows (api spec §4.3).
#include "model/job_outcome.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(FailureReasonMapping, AlwaysSupportedPassThrough) {
  EXPECT_EQ(map_failure_reason(FailureReason::kScriptFailure, {}), "script_failure");
  EXPECT_EQ(map_failure_reason(FailureReason::kJobExecutionTimeout, {}), "job_execution_timeout");
  EXPECT_EQ(map_failure_reason(FailureReason::kNone, {}), "script_failure");
}

TEST(FailureReasonMapping, FollowsCompatibilityChain) {
  EXPECT_EQ(map_failure_reason(FailureReason::kImagePullFailure, {}), "runner_system_failure");
  EXPECT_EQ(map_failure_reason(FailureReason::kRunnerConfigurationError, {}), "script_failure");
  EXPECT_EQ(map_failure_reason(FailureReason::kRunnerConfigurationError,
                               {"runner_configuration_error"}),
            "runner_configuration_error");
}

TEST(FailureReasonMapping, UnknownToServerBecomesUnknownFailure) {
  EXPECT_EQ(map_failure_reason(FailureReason::kJobCanceled, {"script_failure"}), "unknown_failure");
  EXPECT_EQ(map_failure_reason(FailureReason::kRunnerInterrupted, {}), "unknown_failure");
  EXPECT_EQ(map_failure_reason(FailureReason::kRunnerInterrupted, {"runner_interrupted"}),
            "runner_interrupted");
}

}  // namespace
}  // namespace glr
