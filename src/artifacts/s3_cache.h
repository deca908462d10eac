// The S3 distributed cache (executors §5.6; api spec §8.3): the runner turns [runners.cache.s3]
// and credentials into presigned GET/HEAD/PUT URLs that it passes to cache-extractor and
// cache-archiver (--url / --header), so the helper never holds storage credentials.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/sigv4.h"
#include "util/result.h"

namespace glr {

struct S3CacheConfig {
  std::string server_address{};  // host[:port] of an S3-compatible server; "" = AWS
  bool insecure = false;         // http:// instead of https://
  std::string bucket_name{};
  std::string bucket_location{};  // region; "" = us-east-1
  std::optional<bool> path_style{};  // nullopt: auto (virtual-hosted only for AWS/Google hosts)
  std::optional<bool> dual_stack{};  // nullopt: true (AWS endpoints only)
  std::string server_side_encryption{};         // S3/AES256, KMS/aws:kms, DSSE-KMS/aws:kms:dsse
  std::string server_side_encryption_key_id{};  // KMS key for KMS/DSSE-KMS
};

// CacheS3Config.GetEndpoint: "scheme://host[:port]" with canonical ports dropped; "" without a
// server address.
std::string s3_endpoint(const S3CacheConfig& config);
bool s3_path_style(const S3CacheConfig& config);

struct PresignedUrl {
  std::string url{};
  std::vector<std::string> headers{};  // "Name: value" the request must carry (signed headers)
  friend bool operator==(const PresignedUrl&, const PresignedUrl&) = default;
};

// Presigns `method` (GET, HEAD or PUT) for `object_name` in the bucket, valid for `expires`
// (the job timeout). PUT signs x-amz-meta-<k> for each metadata pair and the SSE headers.
Result<PresignedUrl> s3_presign(const S3CacheConfig& config, const AwsCredentials& credentials,
                                std::string_view method, std::string_view object_name,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds expires, const StringPairs& metadata = {});

// The URLs the runner hands to the helper for one cache entry: GET (cache-extractor --url), HEAD
// (--head-url / --check-url) and PUT with x-amz-meta-cachekey (cache-archiver --url, one --header
// per PutHeaders entry). All valid for `expires` (the job timeout, §5.6).
struct S3CacheUrls {
  PresignedUrl get{};
  PresignedUrl head{};
  PresignedUrl put{};
  friend bool operator==(const S3CacheUrls&, const S3CacheUrls&) = default;
};
Result<S3CacheUrls> s3_cache_urls(const S3CacheConfig& config, const AwsCredentials& credentials,
                                  std::string_view object_name, std::string_view cache_key,
                                  std::chrono::system_clock::time_point now,
                                  std::chrono::seconds expires);

}  // namespace glr
