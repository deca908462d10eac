// The runner lifecycle endpoints (api spec §1.2-§1.6): create, register, verify,
// unregister and reset a runner's token. Used by the register/verify/unregister/
// reset-token commands; JSON stays inside gitlab/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gitlab/gitlab_client.h"
#include "http/http_transport.h"
#include "util/result.h"

namespace glr {

// What the server answers for a created, verified or reset runner.
struct RunnerTokenInfo {
  int64_t id = 0;
  Secret token{};
  std::string token_expires_at{};  // ISO 8601, empty when the token does not expire
};

// Server-side attributes of a runner (legacy POST /runners and POST /user/runners).
struct RunnerAttributes {
  std::string description{};
  std::string maintenance_note{};
  std::string tag_list{};  // comma-separated
  bool run_untagged = true;
  bool locked = true;
  std::string access_level{};  // not_protected | ref_protected
  int64_t maximum_timeout = 0;
  bool paused = false;
};

struct CreateRunnerRequest {
  std::string runner_type{};  // instance_type | group_type | project_type
  int64_t group_id = 0;
  int64_t project_id = 0;
  RunnerAttributes attributes{};
};

// TLS files of one GitLab (api spec §0.5): [[runners]] tls-ca-file, tls-cert-file, tls-key-file.
struct TlsFiles {
  std::string ca_file{};
  std::string cert_file{};
  std::string key_file{};
};

// Errors carry the server's message: kUnauthorized (401/403), kNotFound (404/410),
// kConflict (409/422), kInvalidInput (400), kUnavailable (transport, 5xx).
class RegistrationClient {
 public:
  // `transport` must outlive this object. Cheap to construct: make one per runner when
  // runners use different TLS files.
  explicit RegistrationClient(HttpTransport& transport, TlsFiles tls = {});

  // POST /runners with a legacy registration token (§1.3).
  Result<RunnerTokenInfo> register_runner(const std::string& url, const Secret& registration_token,
                                          const RunnerAttributes& attributes,
                                          const RunnerInfoPayload& info);
  // POST /user/runners with a personal access token (§1.2).
  Result<RunnerTokenInfo> create_runner(const std::string& url, const Secret& pat,
                                        const CreateRunnerRequest& request);
  // POST /runners/verify (§1.4).
  Result<RunnerTokenInfo> verify_runner(const std::string& url, const Secret& token,
                                        const std::string& system_id,
                                        const RunnerInfoPayload& info);
  // DELETE /runners (legacy tokens) or DELETE /runners/managers (glrt- tokens) (§1.5).
  Result<> unregister_runner(const std::string& url, const Secret& token);
  Result<> unregister_manager(const std::string& url, const Secret& token,
                              const std::string& system_id);
  // POST /runners/reset_authentication_token, or by id with a PAT (§1.6).
  Result<RunnerTokenInfo> reset_token(const std::string& url, const Secret& token);
  Result<RunnerTokenInfo> reset_token_with_pat(const std::string& url, int64_t runner_id,
                                               const Secret& pat);

 private:
  Result<HttpResponse> call(const std::string& url, const std::string& method,
                            const std::string& path, const std::string& body,
                            const std::vector<HttpHeader>& headers, int expected);
  HttpTransport& transport_;
  TlsFiles tls_;
};

}  // namespace glr
