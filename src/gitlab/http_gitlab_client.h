// GitLabClient over an HttpTransport (api spec §0-§5): builds URLs and headers,
// and classifies every answer into the decision the engine acts on.
#pragma once

#include "gitlab/gitlab_client.h"
#include "http/http_transport.h"

namespace glr {

// Thread-safe when the transport is.
class HttpGitLabClient final : public GitLabClient {
 public:
  // `transport` (normally a RetryingTransport) must outlive this object.
  explicit HttpGitLabClient(HttpTransport& transport);

  JobRequestResult request_job(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                               const std::string& last_update, std::stop_token stop) override;
  UpdateJobResult update_job(const RunnerCredentials& runner, const RunnerInfoPayload& info,
                             const UpdateJobRequest& request, std::stop_token stop) override;
  PatchTraceResult patch_trace(const RunnerCredentials& runner, int64_t job_id,
                               const Secret& job_token, std::string_view content,
                               int64_t start_offset, bool debug_trace,
                               std::stop_token stop) override;

  // "<url>/api/v4/" per §0.1, or an error for a scheme other than http/https.
  static Result<std::string> api_base(const std::string& url);

 private:
  HttpRequest make_request(const RunnerCredentials& runner, std::string method,
                           std::string url) const;
  HttpTransport& transport_;
};

}  // namespace glr
