// AWS credentials for the S3 cache (api spec §8.3 AuthenticationType iam/access-key): static keys
// from config.toml, then the default chain the official runner gets from the AWS SDK: environment
// variables, web identity (IRSA), container credentials (EKS Pod Identity / ECS) and EC2 IMDSv2.
// Temporary credentials are cached and refreshed before they expire.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "artifacts/sigv4.h"
#include "http/http_transport.h"
#include "util/clock.h"
#include "util/result.h"

namespace glr {

using EnvMap = std::map<std::string, std::string>;

// Each source: nullopt when it is not configured (the chain moves on); an Error when it is
// configured but failed.
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN].
std::optional<Result<AwsCredentials>> aws_env_credentials(const EnvMap& env);
// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]: STS
// AssumeRoleWithWebIdentity (unsigned POST) at AWS_ENDPOINT_URL_STS, else the regional endpoint of
// AWS_REGION, else https://sts.amazonaws.com.
std::optional<Result<AwsCredentials>> aws_web_identity_credentials(HttpTransport& http,
                                                                   const EnvMap& env,
                                                                   Clock& clock,
                                                                   std::stop_token stop);
// AWS_CONTAINER_CREDENTIALS_FULL_URI (http only to loopback or the EKS/ECS link-local hosts) or
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2); the Authorization header comes
// from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch) or
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
std::optional<Result<AwsCredentials>> aws_container_credentials(HttpTransport& http,
                                                                const EnvMap& env,
                                                                std::stop_token stop);
// EC2 IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254): PUT a session
// token, read the role name, read its credentials. Not configured when
// AWS_EC2_METADATA_DISABLED=true.
std::optional<Result<AwsCredentials>> aws_imds_credentials(HttpTransport& http, const EnvMap& env,
                                                           std::stop_token stop);

// Thread-safe. Returns cached credentials until 5 minutes before their expiration.
class AwsCredentialChain {
 public:
  // `static_credentials` (AuthenticationType access-key) short-circuits the chain.
  AwsCredentialChain(HttpTransport& http, Clock& clock, EnvMap env,
                     std::optional<AwsCredentials> static_credentials = std::nullopt);
  Result<AwsCredentials> get(std::stop_token stop);

  static constexpr std::chrono::minutes kRefreshWindow{5};

 private:
  Result<AwsCredentials> fetch(std::stop_token stop);

  HttpTransport& http_;
  Clock& clock_;
  EnvMap env_;
  std::optional<AwsCredentials> static_;
  std::mutex mu_;
  std::optional<AwsCredentials> cached_;  // Guarded by mu_.
};

// ISO 8601 "2019-05-29T00:21:43Z" (fractional seconds allowed).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace glr
