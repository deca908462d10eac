// GitLab's runner API as values in, values out (STYLE C2 "GitLab client"); one
// method per endpoint of api spec §0.7. JSON never leaves gitlab/.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "model/job_spec.h"
#include "model/secret.h"
#include "util/result.h"

namespace glr {

// Which runner is talking, and how to reach its GitLab.
struct RunnerCredentials {
  std::string url{};  // [[runners]] url as configured
  Secret token{};
  std::string system_id{};
  std::string tls_ca_file{};
  std::string tls_cert_file{};
  std::string tls_key_file{};
};

// The `info` object of api spec §2.1.
struct RunnerInfoPayload {
  std::string executor{};
  std::string shell{};
  std::map<std::string, bool> features{};  // every key we know, true or false
  std::map<std::string, std::string> labels{};
};

struct JobRequestResult {
  int status = 0;                      // HTTP status, -1 for transport/decoding errors
  std::optional<JobSpec> job{};        // set on 201
  std::string last_update{};           // X-GitLab-Last-Update, empty when absent
  std::string correlation_id{};        // X-Request-Id of the answer (Gitaly correlation, §0.2)
  bool retriable_response_seen = false;  // feeds adaptive request concurrency (§2.5)
  bool unhealthy = false;              // 403 or client error (§2.3)
  std::string message{};               // for the runner log
  // Problems found in an otherwise parsed payload (unsupported executor_opts keys,
  // `run` with `script` steps): the runner fails such a job (§2.3 step 2).
  std::vector<std::string> payload_errors{};
};

struct OutputInfo {
  std::string checksum{};  // "crc32:%08x"
  int64_t bytesize = 0;
};

struct UpdateJobRequest {
  int64_t job_id = 0;
  Secret job_token{};
  std::string state{};           // running, success, failed
  std::string failure_reason{};  // already mapped (map_failure_reason)
  int exit_code = 0;
  std::optional<OutputInfo> output{};
};

enum class UpdateKind { kSucceeded, kAccepted, kTraceValidationFailed, kAbort, kNotFound, kFailed };

struct UpdateJobResult {
  UpdateKind kind = UpdateKind::kFailed;
  int status = 0;  // HTTP status, -1 for transport errors (metrics)
  std::string job_status{};  // Job-Status header
  bool cancel_requested = false;  // Job-Status: canceling
  std::chrono::seconds update_interval{0};  // X-GitLab-Trace-Update-Interval, 0 = absent
  std::string message{};  // for the runner log when not kSucceeded (server message, if any)
};

enum class PatchKind { kSucceeded, kRangeMismatch, kAbort, kNotFound, kFailed };

struct PatchTraceResult {
  PatchKind kind = PatchKind::kFailed;
  int status = 0;  // HTTP status, -1 for transport errors (metrics)
  int64_t new_offset = 0;  // on kSucceeded: start + length; on kRangeMismatch: server size
  std::string job_status{};
  bool cancel_requested = false;
  std::chrono::seconds update_interval{0};
  std::string message{};  // for the runner log when not kSucceeded (server message, if any)
};

class GitLabClient {
 public:
  virtual ~GitLabClient() = default;
  // POST /api/v4/jobs/request. Never fails as a Result: every outcome is classified
  // into JobRequestResult as §2.3 says. Long polls; returns early on `stop`.
  virtual JobRequestResult request_job(const RunnerCredentials& runner,
                                       const RunnerInfoPayload& info,
                                       const std::string& last_update, std::stop_token stop) = 0;
  // PUT /api/v4/jobs/:id, classified per §4.2.
  virtual UpdateJobResult update_job(const RunnerCredentials& runner,
                                     const RunnerInfoPayload& info,
                                     const UpdateJobRequest& request, std::stop_token stop) = 0;
  // PATCH /api/v4/jobs/:id/trace with Content-Range start-end (inclusive), per §5.
  virtual PatchTraceResult patch_trace(const RunnerCredentials& runner, int64_t job_id,
                                       const Secret& job_token, std::string_view content,
                                       int64_t start_offset, bool debug_trace,
                                       std::stop_token stop) = 0;
};

}  // namespace glr
