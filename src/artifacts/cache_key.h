// Cache keys (executors §5.2, §5.3, §5.6; pipeline-yaml §9.10): the server-side key:files /
// files_commits digest that local `exec` mode must compute itself, the runner-side sanitising,
// hashing and fallback order, and where an archive lives locally and in object storage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace glr {

// digest_from_hashes: SHA-1 hex of the sorted, de-duplicated ids joined by '-'; "" when none.
std::string cache_key_digest(std::vector<std::string> ids);
// key_from_files: "<prefix>-<digest>" without empty parts; a missing digest is "default".
std::string cache_key_from_digest(std::string_view prefix, std::string_view digest);

struct CacheKeyFiles {
  std::vector<std::string> files{};          // key:files: blob ids at `sha` (patterns with '*')
  std::vector<std::string> files_commits{};  // key:files_commits: last commit touching each path
  std::string prefix{};
};
// Resolves key:files / key:files_commits against the repository in `repo_dir` at `sha` with git,
// as GitLab does when it creates the pipeline.
Result<std::string> resolve_cache_key_files(const std::filesystem::path& repo_dir,
                                            std::string_view sha, const CacheKeyFiles& key,
                                            const std::vector<std::string>& git_env);

// §5.2 sanitising (FF_HASH_CACHE_KEYS off); nullopt when nothing is left.
std::optional<std::string> sanitize_cache_key(std::string_view raw);
// FF_HASH_CACHE_KEYS on: lowercase hex SHA-256 of the raw key.
std::string hash_cache_key(std::string_view raw);

struct CacheKeyWarning {
  std::function<void(const std::string&)> warn{};
};
// Restore order: key, each fallback key, then CACHE_FALLBACK_KEY (refused when it ends in
// "-protected" after trimming trailing dots and spaces). Keys are sanitised; unusable ones are
// skipped. `warn` receives the official warning texts.
std::vector<std::string> cache_restore_keys(std::string_view key,
                                            const std::vector<std::string>& fallback_keys,
                                            std::string_view cache_fallback_key,
                                            const std::function<void(const std::string&)>& warn);

// <cache_dir>/<key>/cache.zip
std::filesystem::path local_cache_file(const std::filesystem::path& cache_dir, std::string_view key);

// [<path>/]runner/<short token>/project/<id>/<key> ("runner/<token>/" omitted when shared);
// hashed: .../project/<id>/<first 2 hex>/<sha256 hex>. nullopt when the key escapes the project
// prefix (the remote cache is then disabled for the entry).
std::optional<std::string> cache_object_name(std::string_view path, std::string_view short_token,
                                             bool shared, int64_t project_id,
                                             std::string_view key, bool hashed);

}  // namespace glr
