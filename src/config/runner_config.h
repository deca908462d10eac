// config.toml as plain values (api spec §8). Loaded by config_loader.cc, the only
// toml++ user; sections we do not implement are kept verbatim so nothing is lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/cache_settings.h"
#include "config/kubernetes_settings.h"
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
  int output_limit = 0;         // KiB; 0 = default 4096
  int request_concurrency = 0;  // <= 0 means 1
  bool strict_check_interval = false;
  int unhealthy_requests_limit = 0;                // 0 = default 3
  std::chrono::nanoseconds unhealthy_interval{0};  // 0 = default 1h
  int job_status_final_update_retry_limit = 0;     // 0 = default 10
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
  // Every sub-table of this [[runners]] entry (same names as `sections`, in file order
  // there) -> its content re-serialised as TOML by toml++, keys relative to the section:
  // raw_sections["cache"] holds `MaxUploadedArchiveSize = 0` and `[s3]`, `[gcs]` ... tables.
  // An executor parses its own section from this text; a writer re-emits it unchanged.
  // feature_flags, custom_build_dir and labels are both parsed above and kept here.
  std::map<std::string, std::string> raw_sections{};
  // [runners.cache] parsed (executors §5.6); nullopt when the section is absent.
  std::optional<CacheSettings> cache{};
  // [runners.kubernetes] parsed (executors §7.4); nullopt when the section is absent.
  std::optional<KubernetesSettings> kubernetes{};
  bool proxy_exec = false;
  bool use_slot_cgroups = false;
  std::string slot_cgroup_template{};
  std::string step_runner_image{};
  // Values of this entry's unknown non-table keys, in file order, as TOML literals
  // ("foo" -> "\"bar\"", "n" -> "3"), so a load -> save round trip keeps them.
  std::vector<std::pair<std::string, std::string>> unknown_values{};
  friend bool operator==(const RunnerSettings&, const RunnerSettings&) = default;
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
  std::string sentry_dsn{};
  // Global tables ("session_server", "machine", "experimental", ...) in file order, and
  // their content re-serialised as TOML (same convention as RunnerSettings::raw_sections).
  std::vector<std::string> sections{};
  std::map<std::string, std::string> raw_sections{};
  // Keys the official runner does not know, as paths ("foo", "runners[0].foo",
  // "runners[1].bar"): ignored at run time, reported by a future `lint`. Keys inside
  // sections (e.g. [runners.docker]) are not checked here; their owners parse raw_sections.
  std::vector<std::string> unknown_keys{};
  // Values of the unknown non-table global keys, as in RunnerSettings::unknown_values.
  std::vector<std::pair<std::string, std::string>> unknown_values{};
  friend bool operator==(const GlobalConfig&, const GlobalConfig&) = default;
};

// Looks up an environment variable for $VAR expansion; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Loads and validates a config file. Errors name the file, the line and the key:
// "config.toml:12: runners[0].limit: expected integer, got string "abc"
// TOML syntax errors read "config.toml:LINE:COL: <message>". A missing file is kNotFound,
// every other refusal kInvalidInput (kIo when the file cannot be read).
// An unknown executor name is not an error here (the runner marks it unhealthy, §8.2).
// url and token get $VAR / ${VAR} expansion from the process environment (§0.1).
Result<GlobalConfig> load_config(const std::filesystem::path& path);
Result<GlobalConfig> parse_config(std::string_view toml_text, const std::string& source_name);
// As above with an explicit environment for the url/token expansion.
Result<GlobalConfig> parse_config(std::string_view toml_text, const std::string& source_name,
                                  const EnvLookup& env);

// Go os.ExpandEnv: $NAME, ${NAME} and the one-character specials ($1, $$, ...); unset
// names expand to "". A lone trailing '$' is kept.
std::string expand_env(std::string_view text, const EnvLookup& env);

// The §2.5 warnings the runner logs on every load (possibly none).
std::vector<std::string> config_warnings(const GlobalConfig& config);

// Effective values, with the official defaults for zero/unset fields.
int effective_check_interval_seconds(const GlobalConfig& config);      // <= 0 -> 3
int effective_shutdown_timeout_seconds(const GlobalConfig& config);    // <= 0 -> 30
int64_t effective_output_limit_bytes(const RunnerSettings& runner);    // <= 0 -> 4096 KiB
int effective_request_concurrency(const RunnerSettings& runner);       // max(1, x)
int effective_unhealthy_requests_limit(const RunnerSettings& runner);  // <= 0 -> 3
std::chrono::nanoseconds effective_unhealthy_interval(const RunnerSettings& runner);  // <= 0 -> 1h
int effective_final_update_retry_limit(const RunnerSettings& runner);                 // <= 0 -> 10

// True for the Go zero time register writes for "never" (0001-01-01T00:00:00Z) and for "".
bool is_zero_timestamp(std::string_view rfc3339);

// The official default location: /etc/gitlab-runner/config.toml for root, else
// $HOME/.gitlab-runner/config.toml, else <cwd>/config.toml (commands/config_unix.go).
Result<std::filesystem::path> default_config_path();
// The same decision from explicit inputs (empty home/cwd = unavailable).
Result<std::filesystem::path> default_config_path_for(bool is_root, const std::string& home,
                                                      const std::string& cwd);

}  // namespace glr
