// A GitLabClient decorator that records every API call in the runner metrics
// (gitlab_runner_api_request_statuses_total / _duration_seconds, api spec §9.2).
#pragma once

#include <chrono>

#include "gitlab/gitlab_client.h"
#include "metrics/metrics.h"
#include "util/short_token.h"

namespace glr {

class MeteredGitLabClient final : public GitLabClient {
 public:
  // `inner` and `metrics` must outlive this object.
  MeteredGitLabClient(GitLabClient& inner, RunnerMetrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  JobRequestResult request_job(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                               const std::string& last_update, std::stop_token stop) override {
    auto start = std::chrono::steady_clock::now();
    JobRequestResult r = inner_.request_job(runner, info, last_update, stop);
    record(runner, "request_job", r.status, "post", start);
    return r;
  }
  UpdateJobResult update_job(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                             const UpdateJobRequest& request, std::stop_token stop) override {
    auto start = std::chrono::steady_clock::now();
    UpdateJobResult r = inner_.update_job(runner, info, request, stop);
    record(runner, "update_job", r.status, "put", start);
    return r;
  }
  PatchTraceResult patch_trace(const RunnerCredentials& runner, int64_t job_id,
                               const Secret& job_token, std::string_view content,
                               int64_t start_offset, bool debug_trace,
                               std::stop_token stop) override {
    auto start = std::chrono::steady_clock::now();
    PatchTraceResult r =
        inner_.patch_trace(runner, job_id, job_token, content, start_offset, debug_trace, stop);
    record(runner, "patch_trace", r.status, "patch", start);
    return r;
  }

 private:
  void record(const RunnerCredentials& runner, std::string_view endpoint, int status,
              std::string_view method, std::chrono::steady_clock::time_point start) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    RunnerIdentity id{short_token(runner.token.value), "", runner.system_id};
    metrics_.api_request(id, endpoint, status == 0 ? -1 : status, method, seconds);
  }

  GitLabClient& inner_;
  RunnerMetrics& metrics_;
};

}  // namespace glr
