// config.toml as plain values (api spec §8). Loaded by config_loader.cc, the only
// toml++ user; sections we do not implement are kept verbatim so nothing is lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/secret.h"
#include "util/result.h"

namespace glr {

struct RunnerSettings {
  std::string name{};
  std::string url{};
  int64_t id = 0;
  Secret token{};
  std::string token_obtained_at{};  // RFC 3339 as written, empty when absent
  std::string token_expires_at{};
  std::string tls_ca_file{};
  std::string tls_cert_file{};
  std::string tls_key_file{};
  std::string executor{};
  std::string shell{};
  std::string builds_dir{};
  std::string cache_dir{};
  std::string clone_url{};
  std::vector<std::string> environment{};  // "KEY=value"
  int limit = 0;
  int output_limit = 0;  // KiB; 0 = default 4096
  int request_concurrency = 0;  // <= 0 means 1
  bool strict_check_interval = false;
  int unhealthy_requests_limit = 0;  // 0 = default 3
  std::chrono::nanoseconds unhealthy_interval{0};  // 0 = default 1h
  int job_status_final_update_retry_limit = 0;  // 0 = default 10
  std::string pre_get_sources_script{};
  std::string post_get_sources_script{};
  std::string pre_build_script{};
  std::string post_build_script{};
  bool debug_trace_disabled = false;
  std::optional<bool> clean_git_config{};
  std::optional<bool> safe_directory_checkout{};
  std::chrono::nanoseconds prepare_timeout{0};
  std::chrono::nanoseconds get_sources_timeout{0};
  std::map<std::string, std::string> labels{};
  std::map<std::string, bool> feature_flags{};
  std::optional<bool> custom_build_dir_enabled{};
  // Executor sections present in the file ("docker", "kubernetes", "cache", ...),
  // kept so an executor that needs one can tell "missing" from "empty".
  std::vector<std::string> sections{};
};

struct GlobalConfig {
  int concurrent = 1;
  int check_interval = 0;  // seconds; <= 0 means 3
  std::string log_level{};
  std::string log_format{};
  std::string listen_address{};
  int shutdown_timeout = 0;  // seconds; <= 0 means 30
  std::chrono::nanoseconds connection_max_age{std::chrono::minutes(15)};
  std::string user{};
  std::map<std::string, std::string> labels{};
  std::vector<RunnerSettings> runners{};
};

// Loads and validates a config file. Errors name the file, the line and the key:
// "config.toml:12: runners[0].limit: expected an integer, got string".
Result<GlobalConfig> load_config(const std::filesystem::path& path);
Result<GlobalConfig> parse_config(std::string_view toml_text, const std::string& source_name);

}  // namespace glr
