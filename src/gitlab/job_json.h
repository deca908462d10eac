// The job payload and request bodies as JSON (api spec §2.1, §3, §4.1): the only
// nlohmann user in gitlab/. JSON never leaves this component.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gitlab/gitlab_client.h"
#include "model/job_spec.h"
#include "util/result.h"

namespace glr {

struct ParsedJob {
  JobSpec job{};
  std::vector<std::string> payload_errors{};  // see JobRequestResult::payload_errors
};

// Unknown keys are ignored, null and missing keys take zero values (§0.6). A wrong
// type is an error naming the field: "job payload: steps[0].script: expected array".
Result<ParsedJob> parse_job_payload(std::string_view json);

std::string job_request_body(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                             const std::string& last_update);
std::string update_job_body(const RunnerInfoPayload& info, const UpdateJobRequest& request);

// The server's `{"message": ...}` error body flattened for a log line (§0.6): a
// string as is, a Rails validation object as "field: a; b, field2: c". Empty when
// the body is not such JSON.
std::string api_error_message(std::string_view body);

// Every §2.1 feature key with what our shell executor really supports.
std::map<std::string, bool> shell_executor_features();

}  // namespace glr
