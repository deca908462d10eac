// Mirrors the official cache/s3 adapter: object name from cache.Path/Shared/short token/project,
// presigned for the job timeout, PUT carrying x-amz-meta-cachekey.
#include "cli/remote_cache.h"

#include <cctype>

#include "artifacts/cache_key.h"
#include "artifacts/s3_cache.h"
#include "util/log.h"
#include "util/short_token.h"

namespace glr {

std::string s3_auth_type(const CacheS3Settings& s3) {
  std::string t;
  for (char c : s3.authentication_type) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (t == "access-key" || t == "iam") return t;
  if (!t.empty()) return "";
  if (s3.server_address.empty() || s3.access_key.empty() || s3.secret_key.empty()) return "iam";
  return "access-key";
}

RemoteCache::RemoteCache(HttpTransport& http, Clock& clock, EnvMap env)
    : http_(http), clock_(clock), env_(std::move(env)) {}

AwsCredentialChain& RemoteCache::chain_for(const CacheS3Settings& s3, const std::string& auth_type) {
  std::lock_guard lock(mu_);
  std::optional<AwsCredentials> fixed;
  std::string id = "iam";
  if (auth_type == "access-key") {
    fixed = AwsCredentials{.access_key_id = s3.access_key, .secret_access_key = s3.secret_key,
                           .session_token = s3.session_token, .expiration = std::nullopt};
    id = "static\n" + s3.access_key + "\n" + s3.secret_key + "\n" + s3.session_token;
  }
  std::unique_ptr<AwsCredentialChain>& chain = chains_[id];
  if (!chain) chain = std::make_unique<AwsCredentialChain>(http_, clock_, env_, fixed);
  return *chain;
}

std::optional<RemoteCacheUrls> RemoteCache::urls(const RunnerSettings& runner, int64_t project_id,
                                                 const std::string& key,
                                                 std::chrono::seconds expires) {
  if (!runner.cache || runner.cache->type.empty()) return std::nullopt;
  const CacheSettings& cache = *runner.cache;
  if (cache.type != "s3") {
    log_warning("Cache config not defined. Skipping cache operation.",
                {{"type", cache.type}});
    return std::nullopt;
  }
  if (!cache.s3 || cache.s3->bucket_name.empty()) {
    log_warning("Missing S3 configuration", {{"runner", short_token(runner.token.value)}});
    return std::nullopt;
  }
  const CacheS3Settings& s3 = *cache.s3;
  std::optional<std::string> object = cache_object_name(
      cache.path, short_token(runner.token.value), cache.shared, project_id, key, false);
  if (!object) {
    log_warning("Cache key escapes the project prefix; remote cache disabled for it",
                {{"key", key}});
    return std::nullopt;
  }
  const std::string auth_type = s3_auth_type(s3);
  if (auth_type.empty()) {
    log_warning("Invalid S3 AuthenticationType", {{"value", s3.authentication_type}});
    return std::nullopt;
  }
  Result<AwsCredentials> credentials = chain_for(s3, auth_type).get(std::stop_token{});
  if (!credentials) {
    log_warning("error while generating S3 pre-signed URL",
                {{"error", credentials.error().message}});
    return std::nullopt;
  }
  S3CacheConfig config{.server_address = s3.server_address,
                       .insecure = s3.insecure,
                       .bucket_name = s3.bucket_name,
                       .bucket_location = s3.bucket_location,
                       .path_style = s3.path_style,
                       .dual_stack = s3.dual_stack,
                       .server_side_encryption = s3.server_side_encryption,
                       .server_side_encryption_key_id = s3.server_side_encryption_key_id};
  Result<S3CacheUrls> urls =
      s3_cache_urls(config, *credentials, *object, key, clock_.now(), expires);
  if (!urls) {
    log_warning("error while generating S3 pre-signed URL", {{"error", urls.error().message}});
    return std::nullopt;
  }
  return RemoteCacheUrls{.get_url = urls->get.url, .put_url = urls->put.url,
                         .put_headers = urls->put.headers};
}

}  // namespace glr
