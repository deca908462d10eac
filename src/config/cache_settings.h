// [runners.cache] and [runners.cache.s3] (api spec config.toml [runners.cache]; executors §5.6):
// the distributed cache the runner presigns URLs for. Plain values, parsed once by the loader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace glr {

struct CacheS3Settings {
  std::string server_address{};  // host[:port] of an S3-compatible server; "" = AWS
  std::string access_key{};
  std::string secret_key{};
  std::string session_token{};
  std::string bucket_name{};
  std::string bucket_location{};
  bool insecure = false;
  std::string authentication_type{};  // "access-key", "iam" or "" (access-key when keys are set)
  std::optional<bool> path_style{};
  std::optional<bool> dual_stack{};
  std::string server_side_encryption{};
  std::string server_side_encryption_key_id{};
  friend bool operator==(const CacheS3Settings&, const CacheS3Settings&) = default;
};

struct CacheSettings {
  std::string type{};  // "s3", "gcs", "azure"; "" = local cache only
  std::string path{};  // prefix of every object name
  bool shared = false;
  int64_t max_uploaded_archive_size = 0;
  std::optional<CacheS3Settings> s3{};
  friend bool operator==(const CacheSettings&, const CacheSettings&) = default;
};

}  // namespace glr
