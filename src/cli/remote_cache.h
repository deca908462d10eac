// The runner side of the S3 distributed cache (executors §5.6; api spec config.toml
// [runners.cache]): presigns the GET and PUT URLs the stage scripts pass to cache-extractor and
// cache-archiver, with credentials from config.toml (access-key) or the AWS chain (iam). One
// credential chain per distinct configuration lives as long as the process, so temporary
// credentials are cached across jobs and refreshed before they expire.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "artifacts/aws_credentials.h"
#include "config/runner_config.h"
#include "http/http_transport.h"
#include "script/bash_script.h"
#include "util/clock.h"

namespace glr {

// "access-key" or "iam" as the official CacheS3Config.AuthType: an explicit value wins (case
// folded; any other value -> ""), else iam unless ServerAddress, AccessKey and SecretKey are all
// set.
std::string s3_auth_type(const CacheS3Settings& s3);

class RemoteCache {
 public:
  // `http` and `clock` must outlive this object; `env` feeds the credential chain.
  RemoteCache(HttpTransport& http, Clock& clock, EnvMap env);
  // Thread-safe. nullopt (with a runner-log warning on errors) when the runner has no S3 cache,
  // the key escapes the project prefix, or credentials/URLs cannot be had.
  std::optional<RemoteCacheUrls> urls(const RunnerSettings& runner, int64_t project_id,
                                      const std::string& key, std::chrono::seconds expires);

 private:
  AwsCredentialChain& chain_for(const CacheS3Settings& s3, const std::string& auth_type);

  HttpTransport& http_;
  Clock& clock_;
  EnvMap env_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<AwsCredentialChain>> chains_;  // Guarded by mu_.
};

}  // namespace glr
